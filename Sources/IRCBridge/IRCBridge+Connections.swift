import GatewayCore
import NIOPosix

extension IRCBridge {
    /// The user's registered connection to `server`, opening it if needed.
    func connectedConnection(for account: BridgeAccount, server: String) async throws(BridgeError) -> IRCBridgeConnection {
        let key = IRCBridgeConnection.Key(user: account.user, server: server.lowercased())
        if let existing = connections[key] {
            try await waitUntilConnected(existing)
            return existing
        }

        var values = account.record.fields
        values["password"] = account.record.secrets["password"]
        let record: RegistrationRecord
        do throws(RegistrationError) {
            record = try Self.record(from: values, maxNickLength: settings.maxNickLength)
        } catch {
            throw BridgeError(.notAcceptable, "Your registration is not usable (\(error.text)); register again")
        }
        let nick = record.fields["nick"]!

        nextConnectionID += 1
        let connection = IRCBridgeConnection(
            id: nextConnectionID, key: key,
            session: loops.makeSession(label: "\(account.user) \(key.server)"),
            nick: nick, bucket: settings.throttle
        )
        connections[key] = connection
        startConsuming(connection)
        let timeout = settings.connectTimeout
        let id = connection.id
        connection.timer = Task { [weak self] in
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            await self?.connectTimedOut(connection: id, key: key, after: timeout)
        }

        // Name resolution happens here, off the loop threads; the engine only takes IP literals.
        let host: String
        do throws(IRCHostResolver.Failure) {
            host = try await IRCHostResolver.resolve(server)[0]
        } catch {
            let failure = BridgeError(.remoteServerNotFound, "The IRC server \(server) could not be found: \(error.reason)")
            close(connection, error: failure)
            throw failure
        }
        var connectHost = host
        var connectPort = settings.defaultPort
        if settings.tls {
            // The TLS handshake, certificate and name checks happen before libircclient says a
            // word, so a failed verification never falls back to plain text.
            let verification: IRCTLSRelay.Verification = settings.verifyCertificates
                ? .full(trustRoots: settings.trustRoots.map { .pemFile($0) } ?? .default)
                : .none
            do {
                let relay = try await IRCTLSRelay.open(
                    host: host, port: Int(settings.defaultPort), serverName: server,
                    verification: verification, group: MultiThreadedEventLoopGroup.singleton
                )
                guard connection.state == .connecting else {
                    relay.close()
                    throw BridgeError(.remoteServerTimeout, "The connection to \(server) was closed")
                }
                connection.relay = relay
                connectHost = "127.0.0.1"
                connectPort = UInt16(relay.localPort)
            } catch let error as BridgeError {
                throw error
            } catch {
                let failure = BridgeError(.remoteServerTimeout, "Could not connect to \(server) securely: \(error)")
                close(connection, error: failure)
                await tellUser(key, failure.text)
                throw failure
            }
        }
        // Logged out or timed out while resolving?
        if connection.state == .connecting {
            connection.session.connect(IRCConnectionConfig(
                host: connectHost, port: connectPort, password: record.secrets["password"],
                nick: nick, username: record.fields["username"], realname: record.fields["realname"],
                registrationTimeout: timeout
            ))
        }
        try await waitUntilConnected(connection)
        return connection
    }

    func waitUntilConnected(_ connection: IRCBridgeConnection) async throws(BridgeError) {
        switch connection.state {
        case .connected: return
        case .closed: throw BridgeError(.remoteServerTimeout, "The connection to \(connection.key.server) was closed")
        case .connecting: break
        }
        let result = await withCheckedContinuation { continuation in
            connection.waiters.append(continuation)
        }
        try result.get()
    }

    func connectTimedOut(connection id: UInt64, key: IRCBridgeConnection.Key, after timeout: Duration) {
        guard let connection = connections[key], connection.id == id, connection.state == .connecting else { return }
        close(connection, error: BridgeError(.remoteServerTimeout, "Could not connect to \(key.server) within \(timeout)"))
    }

    /// Ends a connection: waiters fail with `error`, it leaves the table, its session is closed
    /// (at once while connecting; a registered one is left to the caller to QUIT or close).
    func close(_ connection: IRCBridgeConnection, error: BridgeError) {
        let wasConnecting = connection.state == .connecting
        connection.state = .closed
        connection.timer?.cancel()
        connection.timer = nil
        connection.outbox.removeAll()
        connection.relay?.close()
        connection.relay = nil
        if connections[connection.key] === connection { connections[connection.key] = nil }
        let waiters = connection.waiters
        connection.waiters = []
        for waiter in waiters { waiter.resume(returning: .failure(error)) }
        if wasConnecting { connection.session.close() }
    }

    // MARK: - Pacing

    func enqueue(_ lines: [String], on connection: IRCBridgeConnection) {
        connection.outbox.append(contentsOf: lines)
        guard !connection.draining else { return }
        connection.draining = true
        let id = connection.id
        let key = connection.key
        Task { await self.drain(id, key) }
    }

    /// Sends queued lines in order, as fast as the token bucket allows; sleeps here, in the
    /// bridge, between lines, so a loop thread never waits for the throttle.
    func drain(_ id: UInt64, _ key: IRCBridgeConnection.Key) async {
        while let connection = connections[key], connection.id == id, !connection.outbox.isEmpty {
            if let wait = connection.bucket.take(now: .now) {
                try? await Task.sleep(for: wait)
                continue
            }
            let line = connection.outbox.removeFirst()
            connection.session.send(line)
        }
        if let connection = connections[key], connection.id == id { connection.draining = false }
    }
}
