import GatewayCore
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
    let loops: IRCLoopGroup
    var events: BridgeEventSink?
    var accounts: [String: BridgeAccount] = [:]
    var connections: [IRCBridgeConnection.Key: IRCBridgeConnection] = [:]
    var nextConnectionID: UInt64 = 0
    var nextMessageNumber: UInt64 = 0
    /// Connection attempts under way (a plan may try several ports), shared by every caller.
    var openings: [IRCBridgeConnection.Key: Task<Result<Void, BridgeError>, Never>] = [:]
    /// The nicks in each user's roster, by server: what presence is watched for.
    var watchedNicks: [String: [String: Set<String>]] = [:]
    /// Dropped connections being re-established, with what the user sent meanwhile.
    var reconnecting: [IRCBridgeConnection.Key: PendingLines] = [:]
    /// Messages written while the user's connection to a server opens, in order
    /// (``sendWhenConnected(_:key:account:)``).
    var awaitingConnection: [IRCBridgeConnection.Key: [QueuedMessage]] = [:]
    /// The latest 005 tokens heard from each server, shared by its connections that heard the same.
    var announcedISupport: [String: ISupport] = [:]
    /// Which new connections may start now, per server, and the ones waiting for a turn.
    var connectTurns: IRCConnectTurns
    var connectTurnWaiters: [UInt64: (connection: IRCBridgeConnection, turn: CheckedContinuation<Void, Never>)] = [:]
    /// The addresses recent messages went to, parsed (a conversation repeats its address).
    var recentAddresses = RecentResults<String, Result<IRCAddress, IRCAddressError>>()
    /// When each connection without MONITOR polls ISON next, and the one timer that runs them.
    var presencePolls: IRCPollSchedule<IRCBridgeConnection.Key>
    var presencePollTimer: Task<Void, Never>?

    /// Channel prefixes: a PRIVMSG target starting with one is not us.
    static let channelPrefixes: Set<Character> = ["#", "&", "+", "!"]

    /// Where this actor runs (see ``ActorExecutor``).
    nonisolated let executor: ActorExecutor

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.unownedExecutor }

    /// - Parameters:
    ///   - loops: the daemon's IRC loop threads; the bridge does not shut them down.
    ///   - executor: where the bridge runs; the daemon gives it its gateway's.
    public init(
        identity: BridgeIdentity, settings: IRCBridgeSettings = IRCBridgeSettings(), loops: IRCLoopGroup,
        executor: ActorExecutor = .own()
    ) {
        self.executor = executor
        self.identity = identity
        self.settings = settings
        self.loops = loops
        self.connectTurns = IRCConnectTurns(limit: settings.simultaneousConnects)
        self.presencePolls = IRCPollSchedule(interval: settings.presencePollInterval)
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

    public nonisolated var reportsContactPresence: Bool { true }

    /// IRC cannot be asked to resend: messages are not stored before the report returns.
    public nonisolated var acknowledgesDelivery: Bool { false }

    /// A 401 comes on the connection that sent the message, and connections do not outlive
    /// the daemon.
    public nonisolated var reportsDeliveryAfterRestart: Bool { false }

    public nonisolated var canStayConnected: Bool { true }

    public nonisolated var contactPrompt: ContactPrompt {
        settings.fixedServer == nil
            ? ContactPrompt(description: "Enter the nick and the IRC server, e.g. bob%irc.libera.chat", prompt: "nick%server")
            : ContactPrompt(description: "Enter the IRC nick", prompt: "Nick")
    }

    public func start(events: BridgeEventSink) async {
        self.events = events
    }

    public func stop() async {
        let users = Set(accounts.keys).union(connections.keys.map(\.user)).union(reconnecting.keys.map(\.user))
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

    static func nonEmpty(_ value: String?) -> String? {
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
        watchedNicks[user] = nil
        for key in reconnecting.keys where key.user == user {
            await giveUp(key, reason: "you logged out")
        }
        for (key, connection) in connections where key.user == user {
            close(connection, error: BridgeError(.remoteServerTimeout, "You logged out"))
            connection.session.disconnect(quitMessage: "Logged out")
        }
    }

    // MARK: - Sending

    public func send(_ message: OutgoingMessage, from account: BridgeAccount) async throws(BridgeError) -> String? {
        let address: IRCAddress
        do throws(IRCAddressError) {
            address = try self.address(of: message.to)
        } catch {
            throw BridgeError(.jidMalformed, error.text)
        }
        switch address {
        case .channel:
            throw BridgeError(.featureNotImplemented, "channels come with the next step")
        case .server(let server):
            try await sendRawCommands(message.body, to: server, from: account)
            return nil
        case .user(let nick, let server):
            let key = Self.key(account.user, server)
            // A registered connection takes the message now, unless messages written before it
            // still wait: for a dropped connection to come back, or for one that is opening.
            let connection = connectionTakingMessages(key)
            let lines: [String]
            do throws(IRCLineError) {
                lines = try messageLines(to: nick, body: message.body, as: connection?.nick)
            } catch {
                throw BridgeError(.notAcceptable, "\(error)")
            }
            guard !lines.isEmpty else { return nil }
            let id = newMessageID()
            if let connection {
                write(lines, of: id, to: nick, on: connection)
            } else if reconnecting[key] != nil {
                reconnecting[key]?.lines += lines
                reconnecting[key]?.messageIDs.append(id)
            } else {
                sendWhenConnected(QueuedMessage(nick: nick, body: message.body, lines: lines, id: id), key: key, account: account)
            }
            return id
        }
    }

    /// A private message to a nick on a registered connection, sent here and now; anything else
    /// (a channel, the server, a connection not up, a line that cannot be made) must wait for
    /// ``send(_:from:)``. Only on this bridge's own thread: it enters the actor synchronously.
    public nonisolated func sendNow(_ message: OutgoingMessage, from account: BridgeAccount) -> SendNowOutcome {
        guard executor.isCurrent else { return .mustWait }
        return assumeIsolated { $0.sendToConnectedNick(message, from: account) }
    }

    private func sendToConnectedNick(_ message: OutgoingMessage, from account: BridgeAccount) -> SendNowOutcome {
        guard case .user(let nick, let server) = try? address(of: message.to),
              let connection = connectionTakingMessages(Self.key(account.user, server)),
              let lines = try? messageLines(to: nick, body: message.body, as: connection.nick)
        else { return .mustWait }
        guard !lines.isEmpty else { return .sent(legacyMessageID: nil) }
        let id = newMessageID()
        write(lines, of: id, to: nick, on: connection)
        return .sent(legacyMessageID: id)
    }

    /// The address a contact JID's local part stands for; recent ones are remembered, as a
    /// conversation repeats its address.
    private func address(of localpart: String) throws(IRCAddressError) -> IRCAddress {
        let (fixedServer, maxNickLength) = (settings.fixedServer, settings.maxNickLength)
        return try recentAddresses.value(for: localpart) { to in
            Result { () throws(IRCAddressError) in try IRCAddress(localpart: to, fixedServer: fixedServer, maxNickLength: maxNickLength) }
        }.get()
    }

    /// The id a new private message is reported by (for a `401` about its nick).
    private func newMessageID() -> String {
        nextMessageNumber += 1
        return "irc-\(nextMessageNumber)"
    }

    /// The user's registered connection to a server, when no message written earlier still
    /// waits to go out (behind a reconnect or an opening): only then may one go straight out.
    func connectionTakingMessages(_ key: IRCBridgeConnection.Key) -> IRCBridgeConnection? {
        guard let connection = connections[key], connection.state == .connected,
              reconnecting[key] == nil, awaitingConnection[key] == nil else { return nil }
        return connection
    }

    /// A private message's lines. Without a connection (`ownNick` nil) our nick may still
    /// change: the longest allowed keeps the lines short enough.
    func messageLines(to nick: String, body: String, as ownNick: String?) throws(IRCLineError) -> [String] {
        let ownNick = ownNick ?? String(repeating: "n", count: settings.maxNickLength)
        return try IRCLineSplitter(nick: ownNick).lines(.privmsg, target: nick, body: body, lineEnd: "")
    }

    /// Writes a private message's lines, remembering the message for a `401` about `nick` and
    /// the conversation for `nick`'s nick changes.
    ///
    /// The lines go first: the bookkeeping is for answers that come later, handled on this actor
    /// after it, and a lone message's latency is the work done before its line leaves.
    func write(_ lines: [String], of id: String, to nick: String, on connection: IRCBridgeConnection) {
        enqueue(lines, on: connection, batchable: true)
        let folded = connection.caseMapping.fold(nick)
        connection.lastSent[folded] = id
        connection.conversations.insert(folded)
    }

    static func key(_ user: String, _ server: String) -> IRCBridgeConnection.Key {
        // Asked for every message sent; host names come in lower case nearly always, and then
        // lowercased() would only make a copy.
        let isLowercasedASCII = !server.utf8.contains { (0x41...0x5A).contains($0) || $0 >= 0x80 }
        return IRCBridgeConnection.Key(user: user, server: isLowercasedASCII ? server : server.lowercased())
    }

    /// The session engine takes lines without their CR LF.
    static func withoutLineEnd(_ line: String) -> String {
        var line = line
        while line.hasSuffix("\r\n") || line.hasSuffix("\n") || line.hasSuffix("\r") { line.removeLast() }
        return line
    }

    // MARK: - Addresses

    public nonisolated func normalizeAddress(_ input: String) -> Result<String, AddressError> {
        do throws(IRCAddressError) {
            let address = try IRCAddress(localpart: input, fixedServer: settings.fixedServer, maxNickLength: settings.maxNickLength)
            // A local part from a JID comes lower-cased already, and is then its own normal form.
            if settings.fixedServer == nil, !input.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) {
                return .success(input)
            }
            // Lower-cased like JID local parts (servers lower-case them anyway), so `Bob` and
            // `bob` are one contact; IRC's own case mapping applies on the wire.
            let lower = IRCAddress.lowercasedASCII
            let normalized: IRCAddress = switch address {
            case .user(let nick, let server): .user(nick: lower(nick), server: lower(server))
            case .channel(let name, let server): .channel(name: lower(name), server: lower(server))
            case .server(let server): .server(lower(server))
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
