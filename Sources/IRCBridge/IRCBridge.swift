import GatewayCore
import NIOPosix
import XMPPCore

/// The IRC bridge: contacts are `nick%server` (people) and, later, `#channel%server` (rooms).
///
/// This step does private chat only:
/// - Registration stores a nick (and optional user name, real name and server password); IRC
///   nicks are no identity across users, so the record has no `legacyID`.
/// - Connections open on first use: the first message to `bob%irc.example` connects the user
///   to `irc.example` as their nick, and every resource of the user shares that connection.
///   ``logIn(_:)`` only remembers the account; ``logOut(user:)`` QUITs all of the user's
///   connections.
/// - libircclient resolves names with a blocking `gethostbyname()`, so the engine only takes
///   IP literals; this bridge resolves host names itself with `getaddrinfo` on a thread of its
///   own (``IRCHostResolver``) and hands the engine the first address.
/// - Outgoing text goes through ``IRCLineSplitter`` (no CR/LF/NUL ever reaches a line, and no
///   relayed line exceeds 512 bytes) and is paced by a ``TokenBucket`` per connection, in the
///   bridge, never on a loop thread.
/// - A PRIVMSG, NOTICE or CTCP ACTION to our nick becomes a message from `nick%server`
///   (formatting stripped, an action as `/me …`). A notice is shown like a message, as
///   biboumi does; notices from the server itself (no `nick!user@host` origin) are dropped.
/// - `send` returns a synthetic id (`irc-<n>`) remembered per target; a 401 ERR_NOSUCHNICK for
///   that target is reported as a failed delivery of the last message sent to it.
public actor IRCBridge: Bridge {
    public static let kind = BridgeKind(
        name: "irc", gatewayType: "irc",
        summary: "IRC networks through libircclient; private chat (channels come next)"
    )

    public nonisolated let identity: BridgeIdentity
    public nonisolated let settings: IRCBridgeSettings
    private let loops: IRCLoopGroup
    private var events: BridgeEventSink?
    private var accounts: [String: BridgeAccount] = [:]
    private var connections: [IRCBridgeConnection.Key: IRCBridgeConnection] = [:]
    private var nextConnectionID: UInt64 = 0
    private var nextMessageNumber: UInt64 = 0

    /// Case folding for nicks until the server's ISUPPORT CASEMAPPING is tracked.
    private static let caseMapping = IRCCaseMapping.rfc1459
    /// Channel prefixes: a PRIVMSG target starting with one is not us.
    private static let channelPrefixes: Set<Character> = ["#", "&", "+", "!"]

    /// - Parameter loops: the daemon's IRC loop threads; the bridge does not shut them down.
    public init(identity: BridgeIdentity, settings: IRCBridgeSettings = IRCBridgeSettings(), loops: IRCLoopGroup) {
        self.identity = identity
        self.settings = settings
        self.loops = loops
    }

    // MARK: - Registration

    public nonisolated var registrationFields: [RegistrationField] {
        [
            RegistrationField("nick", label: "Nick", description: "Your nick on IRC, e.g. alice_xmpp", legacyElement: "nick"),
            RegistrationField("username", label: "User name (ident)", description: "Defaults to your nick", isRequired: false, legacyElement: "username"),
            RegistrationField("realname", label: "Real name", description: "Shown by WHOIS; defaults to your nick", isRequired: false, legacyElement: "name"),
            RegistrationField("password", label: "Server password", description: "Only for servers that ask for one (PASS)", kind: .secret, isRequired: false, legacyElement: "password"),
        ]
    }

    public nonisolated var registrationInstructions: String {
        "Choose the nick you will use on IRC. The gateway connects to a server the first time you write to someone there."
    }

    public nonisolated var contactPrompt: ContactPrompt {
        settings.fixedServer == nil
            ? ContactPrompt(description: "Enter the nick and the IRC server, e.g. bob%irc.libera.chat", prompt: "nick%server")
            : ContactPrompt(description: "Enter the IRC nick", prompt: "Nick")
    }

    public func start(events: BridgeEventSink) async {
        self.events = events
    }

    public func stop() async {
        let users = Set(accounts.keys).union(connections.keys.map(\.user))
        for user in users { await logOut(user: user) }
    }

    public func validateRegistration(_ submission: RegistrationSubmission) async throws(RegistrationError) -> RegistrationRecord {
        try Self.record(from: submission.values, maxNickLength: settings.maxNickLength)
    }

    /// Checks registration values and builds the record. Everything here ends up in NICK,
    /// USER and PASS lines written by libircclient, so nothing may hold CR, LF or NUL, and the
    /// middle parameters no space either.
    static func record(from values: [String: String], maxNickLength: Int) throws(RegistrationError) -> RegistrationRecord {
        let nick = values["nick"] ?? ""
        guard !nick.isEmpty else { throw RegistrationError(field: "nick", "A nick is required") }
        do throws(IRCAddressError) {
            try IRCAddress.validateNick(nick, maxLength: maxNickLength)
        } catch {
            throw RegistrationError(field: "nick", error.text)
        }
        let username = nonEmpty(values["username"]) ?? nick
        guard username.utf8.count <= 64,
              username.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "@" })
        else {
            throw RegistrationError(field: "username", "The user name must be at most 64 printable ASCII characters, without spaces or @")
        }
        let realname = nonEmpty(values["realname"]) ?? nick
        guard realname.utf8.count <= 200, !realname.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw RegistrationError(field: "realname", "The real name must be one line of at most 200 bytes")
        }
        var secrets: [String: String] = [:]
        if let password = nonEmpty(values["password"]) {
            guard !password.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else {
                throw RegistrationError(field: "password", "The server password cannot contain spaces or control characters")
            }
            secrets["password"] = password
        }
        return RegistrationRecord(legacyID: nil, fields: ["nick": nick, "username": username, "realname": realname], secrets: secrets)
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }

    // MARK: - Sessions

    /// IRC connections open on first use; logging in only remembers the account.
    public func logIn(_ account: BridgeAccount) async throws(BridgeError) {
        accounts[account.user] = account
    }

    /// QUITs every connection of `user`.
    public func logOut(user: String) async {
        accounts[user] = nil
        for (key, connection) in connections where key.user == user {
            close(connection, error: BridgeError(.remoteServerTimeout, "You logged out"))
            connection.session.disconnect(quitMessage: "Logged out")
        }
    }

    // MARK: - Sending

    public func send(_ message: OutgoingMessage, from account: BridgeAccount) async throws(BridgeError) -> String? {
        let address: IRCAddress
        do throws(IRCAddressError) {
            address = try IRCAddress(localpart: message.to, fixedServer: settings.fixedServer, maxNickLength: settings.maxNickLength)
        } catch {
            throw BridgeError(.jidMalformed, error.text)
        }
        switch address {
        case .channel:
            throw BridgeError(.featureNotImplemented, "channels come with the next step")
        case .server:
            throw BridgeError(.featureNotImplemented, "commands to an IRC server come with a later step")
        case .user(let nick, let server):
            let connection = try await connectedConnection(for: account, server: server)
            let lines: [String]
            do throws(IRCLineError) {
                lines = try IRCLineSplitter(nick: connection.nick).lines(.privmsg, target: nick, body: message.body)
            } catch {
                throw BridgeError(.notAcceptable, "\(error)")
            }
            guard !lines.isEmpty else { return nil }
            nextMessageNumber += 1
            let id = "irc-\(nextMessageNumber)"
            connection.lastSent[Self.caseMapping.fold(nick)] = id
            enqueue(lines.map(Self.withoutLineEnd), on: connection)
            return id
        }
    }

    /// The session engine takes lines without their CR LF.
    private static func withoutLineEnd(_ line: String) -> String {
        var line = line
        while line.hasSuffix("\r\n") || line.hasSuffix("\n") || line.hasSuffix("\r") { line.removeLast() }
        return line
    }

    /// The user's registered connection to `server`, opening it if needed.
    private func connectedConnection(for account: BridgeAccount, server: String) async throws(BridgeError) -> IRCBridgeConnection {
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

    private func waitUntilConnected(_ connection: IRCBridgeConnection) async throws(BridgeError) {
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

    private func connectTimedOut(connection id: UInt64, key: IRCBridgeConnection.Key, after timeout: Duration) {
        guard let connection = connections[key], connection.id == id, connection.state == .connecting else { return }
        close(connection, error: BridgeError(.remoteServerTimeout, "Could not connect to \(key.server) within \(timeout)"))
    }

    /// Ends a connection: waiters fail with `error`, it leaves the table, its session is closed
    /// (at once while connecting; a registered one is left to the caller to QUIT or close).
    private func close(_ connection: IRCBridgeConnection, error: BridgeError) {
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

    private func enqueue(_ lines: [String], on connection: IRCBridgeConnection) {
        connection.outbox.append(contentsOf: lines)
        guard !connection.draining else { return }
        connection.draining = true
        let id = connection.id
        let key = connection.key
        Task { await self.drain(id, key) }
    }

    /// Sends queued lines in order, as fast as the token bucket allows; sleeps here, in the
    /// bridge, between lines, so a loop thread never waits for the throttle.
    private func drain(_ id: UInt64, _ key: IRCBridgeConnection.Key) async {
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

    // MARK: - Inbound

    private func startConsuming(_ connection: IRCBridgeConnection) {
        let session = connection.session
        let id = connection.id
        let key = connection.key
        Task { [weak self] in
            for await event in session.events {
                // A connection is used once: when it ends, release the session (this also
                // finishes the stream and so this task).
                if case .disconnected = event { session.close() }
                await self?.handle(event, connection: id, key: key)
            }
        }
    }

    private func handle(_ event: IRCEvent, connection id: UInt64, key: IRCBridgeConnection.Key) async {
        guard let connection = connections[key], connection.id == id else { return }
        switch event {
        case .connecting, .sendFailed:
            break
        case .connected:
            guard connection.state == .connecting else { return }
            connection.state = .connected
            connection.timer?.cancel()
            connection.timer = nil
            let waiters = connection.waiters
            connection.waiters = []
            for waiter in waiters { waiter.resume(returning: .success(())) }
        case .numeric(let code, _, let params):
            await handleNumeric(code, params, on: connection)
        case .message(let kind, _, let origin, let params):
            await handleMessage(kind, origin: origin, params: params, on: connection)
        case .disconnected(let error, let requested, let unsentLines):
            let wasConnected = connection.state == .connected
            let reason = error?.message ?? "the server closed the connection"
            let waiting = connection.outbox
            close(connection, error: BridgeError(.remoteServerTimeout, "Could not connect to \(key.server): \(reason)"))
            if wasConnected, !requested {
                let lost = unsentLines > 0 ? " \(unsentLines) line(s) handed to the server may not have arrived." : ""
                await tellUser(key, "Disconnected from \(key.server): \(reason).\(lost) Reconnecting…")
                scheduleReconnect(key, attempt: 0, carrying: waiting)
            }
        }
    }

    // MARK: - Reconnection

    /// How many times a dropped connection is retried before the user is told to try later.
    static let reconnectAttempts = 6

    /// Reconnects a dropped connection after a delay that doubles each attempt (1 s, 2 s, 4 s…
    /// up to 30 s) with equal jitter, so a thousand users dropped by one netsplit do not all come
    /// back in the same second. Lines that were waiting go out after reconnecting; a message the
    /// user sends meanwhile opens the connection at once instead.
    private func scheduleReconnect(_ key: IRCBridgeConnection.Key, attempt: Int, carrying lines: [String]) {
        let ceiling = min(30.0, pow2(attempt))
        let delay = Duration.milliseconds(Int64((ceiling / 2 + Double.random(in: 0...(ceiling / 2))) * 1000))
        Task { [weak self] in
            try? await Task.sleep(for: delay)
            await self?.reconnect(key, attempt: attempt, carrying: lines)
        }
    }

    private func reconnect(_ key: IRCBridgeConnection.Key, attempt: Int, carrying lines: [String]) async {
        // Logged out meanwhile, or a message already opened a new connection.
        guard let account = accounts[key.user] else { return }
        if let existing = connections[key] {
            if !lines.isEmpty { enqueue(lines, on: existing) }
            return
        }
        do {
            let connection = try await connectedConnection(for: account, server: key.server)
            if !lines.isEmpty { enqueue(lines, on: connection) }
            await tellUser(key, "Reconnected to \(key.server).")
        } catch {
            if attempt + 1 < Self.reconnectAttempts {
                scheduleReconnect(key, attempt: attempt + 1, carrying: lines)
            } else {
                let dropped = lines.isEmpty ? "" : " \(lines.count) waiting line(s) were not sent."
                await tellUser(key, "Could not reconnect to \(key.server): \(error.text).\(dropped) Your next message will try again.")
            }
        }
    }

    private func pow2(_ exponent: Int) -> Double {
        var value = 1.0
        for _ in 0..<min(exponent, 10) { value *= 2 }
        return value
    }

    /// A message to the user from the IRC server's own JID.
    private func tellUser(_ key: IRCBridgeConnection.Key, _ text: String) async {
        await report(.message(user: key.user, from: IRCAddress.server(key.server).localpart(fixedServer: settings.fixedServer),
                              body: text, legacyMessageID: nil))
    }

    private func handleNumeric(_ code: UInt32, _ params: [String], on connection: IRCBridgeConnection) async {
        switch code {
        case 1: // RPL_WELCOME: the first parameter is our nick as the server took it.
            if let nick = params.first, !nick.isEmpty { connection.nick = nick }
        case 433 where connection.state == .connecting: // ERR_NICKNAMEINUSE
            guard connection.nickAttempts < 3 else {
                close(connection, error: BridgeError(.conflict, "The nick \(connection.requestedNick) is taken on \(connection.key.server)"))
                return
            }
            connection.nickAttempts += 1
            let alternative = connection.requestedNick + String(repeating: "_", count: connection.nickAttempts)
            connection.nick = alternative
            connection.session.send("NICK \(alternative)")
        case 432 where connection.state == .connecting: // ERR_ERRONEUSNICKNAME
            close(connection, error: BridgeError(.notAcceptable, "\(connection.key.server) refuses the nick \(connection.requestedNick)"))
        case 464, 465: // ERR_PASSWDMISMATCH, ERR_YOUREBANNEDCREEP
            close(connection, error: BridgeError(.notAuthorized, "\(connection.key.server) refused the connection: \(params.last ?? "")"))
        case 401: // ERR_NOSUCHNICK <me> <target> :No such nick
            guard params.count >= 2 else { return }
            let target = params[1]
            if let id = connection.lastSent.removeValue(forKey: Self.caseMapping.fold(target)) {
                await report(.delivery(user: connection.key.user, legacyMessageID: id, outcome: .failed("No such nick: \(target)")))
            }
        default:
            break
        }
    }

    private func handleMessage(_ kind: IRCMessageKind, origin: String?, params: [String], on connection: IRCBridgeConnection) async {
        switch kind {
        case .privmsg, .notice, .ctcpAction:
            // Server notices (origin without nick!user@host) and anything to a channel are not
            // private chat.
            guard let origin, let bang = origin.firstIndex(of: "!"), bang > origin.startIndex,
                  params.count >= 2, let first = params[0].first, !Self.channelPrefixes.contains(first)
            else { return }
            let nick = String(origin[..<bang])
            let text = IRCFormatting.plainText(params[params.count - 1])
            let body = kind == .ctcpAction ? "/me " + text : text
            guard !text.isEmpty || kind == .ctcpAction else { return }
            let from = IRCAddress.user(nick: nick, server: connection.key.server).localpart(fixedServer: settings.fixedServer)
            await report(.message(user: connection.key.user, from: from, body: body, legacyMessageID: nil))
        case .ctcpRequest:
            answerCTCP(origin: origin, request: params.last ?? "", on: connection)
        case .nick:
            guard let origin, let newNick = params.first else { return }
            let oldNick = origin.split(separator: "!", maxSplits: 1).first.map(String.init) ?? origin
            if Self.caseMapping.equals(oldNick, connection.nick) { connection.nick = newNick }
        default:
            break
        }
    }

    /// Answers CTCP VERSION and PING as a client would (libircclient's own answers are off once
    /// requests are handled). Answers go through the throttled queue, so a flood of requests
    /// cannot get the user killed for flooding.
    private func answerCTCP(origin: String?, request: String, on connection: IRCBridgeConnection) {
        guard let origin, let bang = origin.firstIndex(of: "!"), bang > origin.startIndex else { return }
        let nick = String(origin[..<bang])
        let parts = request.split(separator: " ", maxSplits: 1).map(String.init)
        let answer: String
        switch parts.first?.uppercased() {
        case "VERSION": answer = "VERSION \(CausewayVersion.name) \(CausewayVersion.version), an XMPP gateway"
        case "PING": answer = "PING " + (parts.count > 1 ? IRCFormatting.plainText(parts[1]) : "")
        default: return
        }
        guard let line = try? IRCLineSplitter.command("NOTICE", [nick], trailing: "\u{01}\(answer)\u{01}") else { return }
        enqueue([Self.withoutLineEnd(line)], on: connection)
    }

    private func report(_ event: BridgeEvent) async {
        // The sink stores events durably; if it cannot, IRC has no way to ask for a resend.
        try? await events?.report(event)
    }

    // MARK: - Addresses

    public nonisolated func normalizeAddress(_ input: String) -> Result<String, AddressError> {
        do throws(IRCAddressError) {
            let address = try IRCAddress(localpart: input, fixedServer: settings.fixedServer, maxNickLength: settings.maxNickLength)
            let normalized: IRCAddress = switch address {
            case .user(let nick, let server): .user(nick: nick, server: server.lowercased())
            case .channel(let name, let server): .channel(name: name, server: server.lowercased())
            case .server(let server): .server(server.lowercased())
            }
            return .success(normalized.localpart(fixedServer: settings.fixedServer))
        } catch {
            return .failure(AddressError(error.text))
        }
    }

    public nonisolated func contactProfile(_ address: String) -> ContactProfile {
        switch try? IRCAddress(localpart: address, fixedServer: settings.fixedServer, maxNickLength: settings.maxNickLength) {
        case .user(let nick, _): ContactProfile(name: nick, category: "client", type: "pc")
        case .channel(let name, _): ContactProfile(name: name, category: "conference", type: "irc")
        case .server(let server): ContactProfile(name: server, category: "gateway", type: "irc")
        case nil: ContactProfile(name: address, category: "client", type: "pc")
        }
    }
}
