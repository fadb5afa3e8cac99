import GatewayCore
import NIOPosix

extension IRCBridge {
    /// The user's registered connection to `server`, opening it if needed. Callers that come
    /// while it opens wait for the same attempt (which may try several ports).
    func connectedConnection(for account: BridgeAccount, server: String) async throws(BridgeError) -> IRCBridgeConnection {
        let key = IRCBridgeConnection.Key(user: account.user, server: server.lowercased())
        if openings[key] != nil || connections[key]?.state != .connected {
            // Opening a connection takes a while: what this batch already wrote goes now.
            OutputBatch.current?.release()
        }
        if let opening = openings[key] {
            try await opening.value.get()
        } else if connections[key] == nil {
            let opening = Task { await self.open(key, account: account).map { _ in () } }
            openings[key] = opening
            let result = await opening.value
            openings.removeValueReleasingEmptyStorage(forKey: key)
            try result.get()
        }
        guard let connection = connections[key] else {
            throw BridgeError(.remoteServerTimeout, "The connection to \(key.server) was closed")
        }
        try await waitUntilConnected(connection)
        return connection
    }

    /// Sends `message` once the user's connection to its server is registered, opening it if
    /// needed; if it cannot be opened, the message's delivery fails with the reason. The caller
    /// does not wait: a user's first message used to keep its whole handling task (several KiB
    /// of async frames) until the server had registered the connection, and a burst of users
    /// coming online left that memory fragmented (about 1 KiB more resident per connection at
    /// 300 users, 2 at 100). Messages written meanwhile queue behind it, in order.
    func sendWhenConnected(_ message: QueuedMessage, key: IRCBridgeConnection.Key, account: BridgeAccount) {
        if awaitingConnection[key] != nil {
            awaitingConnection[key]!.append(message)
            return
        }
        awaitingConnection[key] = [message]
        Task { await self.flushWhenConnected(key, account: account) }
    }

    private func flushWhenConnected(_ key: IRCBridgeConnection.Key, account: BridgeAccount) async {
        let outcome: Result<IRCBridgeConnection, BridgeError>
        do throws(BridgeError) {
            outcome = .success(try await connectedConnection(for: account, server: key.server))
        } catch {
            outcome = .failure(error)
        }
        let queued = awaitingConnection.removeValueReleasingEmptyStorage(forKey: key) ?? []
        switch outcome {
        case .success(let connection):
            for message in queued {
                // Split again for the nick we got: it is usually shorter than the longest allowed.
                let lines = (try? messageLines(to: message.nick, body: message.body, as: connection.nick)) ?? message.lines
                write(lines, of: message.id, to: message.nick, on: connection)
            }
        case .failure(let error):
            for message in queued {
                await report(.delivery(user: key.user, legacyMessageID: message.id, outcome: .refused(error.condition, error.text)))
            }
        }
    }

    /// Where and how to connect `account` to `server`: the admin's server table, the user's own
    /// settings for the server, then the registration.
    func connectionPlan(for account: BridgeAccount, server: String) async throws(BridgeError) -> IRCConnectionPlan {
        var values = account.record.fields
        values["password"] = account.record.secrets["password"]
        let record: RegistrationRecord
        do throws(RegistrationError) {
            record = try Self.record(from: values, maxNickLength: settings.maxNickLength)
        } catch {
            throw BridgeError(.notAcceptable, "Your registration is not usable (\(error.text)); register again")
        }
        let admin = settings.servers[server] ?? IRCServerSettings()
        let serverAddress = IRCAddress.server(server).localpart(fixedServer: settings.fixedServer)
        let mine = settings.fixedServer == nil
            ? IRCServerPreferences(await events?.contactSettings(user: account.user, address: serverAddress))
            : IRCServerPreferences()
        let nick = mine.nick ?? record.fields["nick"]!
        let tls = mine.tls ?? admin.tls ?? settings.tls
        let verify = (admin.verifyCertificates ?? settings.verifyCertificates) && (mine.verifyCertificates ?? true)
        var afterConnect: [String] = []
        if let password = mine.nickServPassword {
            afterConnect.append("PRIVMSG NickServ :IDENTIFY \(password)")
        }
        afterConnect += mine.afterConnect
        return IRCConnectionPlan(
            host: admin.address ?? server,
            ports: mine.ports ?? admin.ports ?? [settings.defaultPort],
            tls: tls,
            verification: verify ? .full(trustRoots: settings.trustRoots.map { .pemFile($0) } ?? .default) : .none,
            password: mine.password ?? record.secrets["password"],
            nick: nick, username: record.fields["username"] ?? nick, realname: record.fields["realname"] ?? nick,
            sasl: mine.saslPassword.map { IRCTLSRelay.SASLCredentials(username: mine.saslUsername ?? nick, password: $0) },
            afterConnect: afterConnect
        )
    }

    /// Opens the connection, trying the plan's ports in order while the server cannot be reached.
    func open(_ key: IRCBridgeConnection.Key, account: BridgeAccount) async -> Result<IRCBridgeConnection, BridgeError> {
        var account = account
        var plan: IRCConnectionPlan
        var address: String
        while true {
            do throws(BridgeError) {
                plan = try await connectionPlan(for: account, server: key.server)
            } catch {
                return .failure(error)
            }
            // Name resolution happens here, off the loop threads; the engine only takes IP literals.
            do throws(IRCHostResolver.Failure) {
                address = try await IRCHostResolver.resolve(plan.host)[0]
            } catch {
                return .failure(BridgeError(.remoteServerNotFound, "The IRC server \(plan.host) could not be found: \(error.reason)"))
            }
            // The user may have registered again (a new nick, say) while this was planned: then
            // plan again for what holds now, rather than connect with the old registration. A
            // user who logged out meanwhile (a new registration logs out first) gets no
            // connection: it would have outlived the logout, with the old nick.
            guard let current = accounts[key.user] else {
                return .failure(BridgeError(.remoteServerTimeout, "You logged out while the connection to \(key.server) was being prepared"))
            }
            guard current != account else { break }
            account = current
        }
        var failure = BridgeError(.remoteServerTimeout, "No port to connect to \(key.server)")
        for (index, port) in plan.ports.enumerated() {
            let attempt = await attempt(key, plan: plan, address: address, port: port)
            switch attempt {
            case .success(let connection):
                return .success(connection)
            case .failure(let error):
                failure = error.error
                // Only a server that could not be reached is tried on its next port.
                guard error.unreachable, index + 1 < plan.ports.count, accounts[key.user] != nil else {
                    if case .relayRefused = error.kind { await tellUser(key, error.error.text) }
                    return .failure(failure)
                }
            }
        }
        return .failure(failure)
    }

    /// One attempt on one port.
    private func attempt(_ key: IRCBridgeConnection.Key, plan: IRCConnectionPlan, address: String, port: UInt16) async -> Result<IRCBridgeConnection, AttemptFailure> {
        nextConnectionID += 1
        let connection = IRCBridgeConnection(
            id: nextConnectionID, key: key,
            session: makeSession(connection: nextConnectionID, key: key),
            nick: plan.nick, bucket: settings.throttle
        )
        connection.afterConnect = plan.afterConnect
        connections[key] = connection
        let timeout = settings.connectTimeout
        let id = connection.id
        connection.timer = OneShotTimer(after: timeout) { [weak self] in
            Task { await self?.connectTimedOut(connection: id, key: key, after: timeout) }
        }

        await takeConnectTurn(connection)
        guard connection.state == .connecting else {
            return .failure(.closedMeanwhile(key))
        }
        var connectHost = address
        var connectPort = port
        if plan.tls || plan.sasl != nil {
            // The TLS handshake, certificate and name checks and SASL happen before libircclient
            // says a word, so a failed verification never falls back to plain text.
            do {
                let relay = try await IRCTLSRelay.open(
                    host: address, port: Int(port), serverName: plan.host,
                    transport: plan.tls ? .tls(plan.verification) : .plain, sasl: plan.sasl,
                    group: MultiThreadedEventLoopGroup.singleton
                )
                guard connection.state == .connecting else {
                    relay.close()
                    return .failure(.closedMeanwhile(key))
                }
                connection.relay = relay
                if plan.sasl != nil, relay.saslOutcome == .notOffered {
                    await tellUser(key, "\(key.server) does not offer SASL; connecting without it.")
                }
                connectHost = "127.0.0.1"
                connectPort = UInt16(relay.localPort)
            } catch {
                let (failure, kind) = Self.describe(error, server: key.server, port: port)
                close(connection, error: failure)
                return .failure(AttemptFailure(failure, kind: kind))
            }
        }
        // Logged out or timed out meanwhile?
        if connection.state == .connecting {
            connection.session.connect(IRCConnectionConfig(
                host: connectHost, port: connectPort, password: plan.password,
                nick: plan.nick, username: plan.username, realname: plan.realname,
                registrationTimeout: timeout
            ))
        }
        do throws(BridgeError) {
            try await waitUntilConnected(connection)
            return .success(connection)
        } catch {
            return .failure(AttemptFailure(error, kind: connection.reachedServer ? .other : .unreachable))
        }
    }

    /// Why one attempt failed, and whether the next port is worth a try.
    struct AttemptFailure: Error {
        /// `relayRefused`: TLS verification or SASL failed in the relay; the user is told, and
        /// other ports are not tried (they would fail the same way).
        enum Kind { case unreachable, relayRefused, other }
        var error: BridgeError
        var kind: Kind
        var unreachable: Bool { kind == .unreachable }
        init(_ error: BridgeError, kind: Kind) {
            self.error = error
            self.kind = kind
        }

        /// The user logged out, or the attempt timed out, while it waited.
        static func closedMeanwhile(_ key: IRCBridgeConnection.Key) -> AttemptFailure {
            AttemptFailure(BridgeError(.remoteServerTimeout, "The connection to \(key.server) was closed"), kind: .other)
        }
    }

    private static func describe(_ error: any Error, server: String, port: UInt16) -> (BridgeError, AttemptFailure.Kind) {
        switch error as? IRCTLSError {
        case .connectFailed(let text)?:
            return (BridgeError(.remoteServerTimeout, "Could not reach \(server) on port \(port): \(text)"), .unreachable)
        case .saslFailed(let text)?:
            return (BridgeError(.notAuthorized, "\(server) refused your SASL login: \(text)"), .relayRefused)
        case .saslTimedOut?:
            return (BridgeError(.remoteServerTimeout, "\(server) did not finish the SASL login"), .relayRefused)
        case .invalidCredentials(let text)?:
            return (BridgeError(.notAcceptable, "Your SASL settings for \(server) cannot be used: \(text)"), .relayRefused)
        case let tlsError?:
            return (BridgeError(.remoteServerTimeout, "Could not connect to \(server): \(tlsError)"), .relayRefused)
        case nil:
            return (BridgeError(.remoteServerTimeout, "Could not connect to \(server): \(error)"), .unreachable)
        }
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
        stopPolling(connection)
        for folded in Array(connection.whois.keys) {
            finishWhois(folded, on: connection, with: .failure(BridgeError(.remoteServerTimeout, "The connection to \(connection.key.server) closed before WHOIS was answered")))
        }
        connection.relay?.close()
        connection.relay = nil
        releaseConnectTurn(connection)
        if connections[connection.key] === connection { connections[connection.key] = nil }
        let waiters = connection.waiters
        connection.waiters = []
        for waiter in waiters { waiter.resume(returning: .failure(error)) }
        if wasConnecting { connection.session.close() }
    }

    // MARK: - Connect turns

    /// Returns when `connection` may connect to its server (see ``IRCConnectTurns``), or when it
    /// was closed while it waited.
    func takeConnectTurn(_ connection: IRCBridgeConnection) async {
        if connectTurns.request(connection.id, server: connection.key.server) {
            connection.holdsConnectTurn = true
            return
        }
        await withCheckedContinuation { turn in
            connectTurnWaiters[connection.id] = (connection, turn)
        }
    }

    /// Connections holding a turn, and waiting for one.
    var connectTurnCounts: (holding: Int, waiting: Int) {
        (connections.values.count { $0.holdsConnectTurn }, connectTurnWaiters.count)
    }

    /// The server spoke to `connection`, or it ended: its turn (held or awaited) goes to the next.
    func releaseConnectTurn(_ connection: IRCBridgeConnection) {
        let waiter = connectTurnWaiters.removeValueReleasingEmptyStorage(forKey: connection.id)
        guard connection.holdsConnectTurn || waiter != nil else { return }
        connection.holdsConnectTurn = false
        waiter?.turn.resume()
        for id in connectTurns.release(connection.id, server: connection.key.server) {
            guard let next = connectTurnWaiters.removeValueReleasingEmptyStorage(forKey: id) else { continue }
            next.connection.holdsConnectTurn = true
            next.turn.resume()
        }
    }

    // MARK: - Pacing

    /// Sends `lines` on `connection`, paced by its throttle. `batchable` lines (messages, which
    /// nothing awaits an answer to) may wait for the end of the current ``OutputBatch``.
    func enqueue(_ lines: [String], on connection: IRCBridgeConnection, batchable: Bool = false) {
        // Without a throttle (and nothing queued before them) lines go straight to the loop.
        if connection.bucket.isUnlimited && !connection.draining && connection.outbox.isEmpty {
            connection.session.send(lines: lines, batchable: batchable)
            return
        }
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
            // Everything the bucket allows now goes to the loop in one hand-over.
            let now = ContinuousClock.now
            var allowed = 0
            var wait: Duration?
            while allowed < connection.outbox.count {
                if let needed = connection.bucket.take(now: now) {
                    wait = needed
                    break
                }
                allowed += 1
            }
            if allowed > 0 {
                connection.session.send(lines: Array(connection.outbox.prefix(allowed)))
                connection.outbox.removeFirst(allowed)
            }
            if let wait { try? await Task.sleep(for: wait) }
        }
        if let connection = connections[key], connection.id == id { connection.draining = false }
    }
}
