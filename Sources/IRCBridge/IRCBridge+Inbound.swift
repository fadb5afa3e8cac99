import GatewayCore
import XMPPCore

extension IRCBridge {
    // MARK: - Events from a session

    /// A session whose events reach ``handle(_:connection:key:)`` through a queue drained by a
    /// task only while events wait. An idle connection holds no task: a long-lived consumer task
    /// per connection kept its deepest async frames (several KiB) for the connection's life.
    func makeSession(connection id: UInt64, key: IRCBridgeConnection.Key) -> IRCSession {
        let inbox = HandOffQueue<IRCEvent>()
        return loops.makeSession(label: "\(key.user) \(key.server)") { [weak self] event in
            guard inbox.add(event), let self else { return }
            self.executor.startTask(on: self) { await $0.drain(inbox, connection: id, key: key) }
        }
    }

    /// Handles the inbox's events in order until it is empty.
    ///
    /// Events taken together are one ``OutputBatch``, as stanzas that arrived together are: the
    /// stanzas they produce wake the component link's event loop once, when the batch ends (or
    /// every millisecond of a long one), not once per message.
    private func drain(_ inbox: HandOffQueue<IRCEvent>, connection id: UInt64, key: IRCBridgeConnection.Key) async {
        while case let events = inbox.take(), !events.isEmpty {
            await OutputBatch.handling(events.count) {
                var lastRelease = ContinuousClock.now
                for event in events {
                    await handleInOrder(event, connection: id, key: key)
                    if let batch = OutputBatch.current, ContinuousClock.now - lastRelease > .milliseconds(1) {
                        batch.release()
                        // On the link's event loop (the daemon's executor) the loop writes what
                        // was released only once this task lets it: without this a burst's
                        // stanzas piled up until the inbox was empty and went out as one write
                        // of megabytes, in freshly faulted pages.
                        await Task.yield()
                        lastRelease = .now
                    }
                }
            }
        }
    }

    private func handleInOrder(_ event: IRCEvent, connection id: UInt64, key: IRCBridgeConnection.Key) async {
        // A connection is used once: when it ends, release the session.
        if case .disconnected = event, let connection = connections[key], connection.id == id {
            // Lines held for an output batch never reached the dead connection: they wait
            // for the next one with the rest (they come before anything in the outbox).
            connection.outbox.insert(contentsOf: connection.session.takeHeld(), at: 0)
            connection.session.close()
        }
        await handle(event, connection: id, key: key)
    }

    func handle(_ event: IRCEvent, connection id: UInt64, key: IRCBridgeConnection.Key) async {
        guard let connection = connections[key], connection.id == id else { return }
        if connection.holdsConnectTurn {
            switch event {
            case .numeric, .message, .connected: releaseConnectTurn(connection)
            case .connecting, .sendFailed, .disconnected: break
            }
        }
        switch event {
        case .connecting:
            connection.reachedServer = true
        case .sendFailed:
            break
        case .connected:
            guard connection.state == .connecting else { return }
            connection.state = .connected
            // Registering leaves garbage (MOTD, events, tasks); many at once leave a lot.
            HeapTrim.shared.requestSoon()
            connection.timer?.cancel()
            connection.timer = nil
            let waiters = connection.waiters
            connection.waiters = []
            for waiter in waiters { waiter.resume(returning: .success(())) }
            await registered(connection)
        case .numeric(let code, let origin, let params):
            await handleNumeric(code, origin: origin, params, on: connection)
        case .message(let kind, _, let origin, let params):
            await handleMessage(kind, origin: origin, params: params, on: connection)
        case .disconnected(let error, let requested, let unsentLines):
            await disconnected(connection, error: error, requested: requested, unsentLines: unsentLines)
        }
    }

    /// Registration finished: the user's commands go out, presence watching starts, and the
    /// server's JID shows online.
    private func registered(_ connection: IRCBridgeConnection) async {
        // Every connection to a server hears the same 005 tokens: they share one copy (about
        // 1 KiB each otherwise) until one of them is told something new.
        if let shared = announcedISupport[connection.key.server], shared == connection.isupport {
            connection.isupport = shared
        } else {
            announcedISupport[connection.key.server] = connection.isupport
        }
        connection.presence.apply(connection.isupport)
        if !connection.afterConnect.isEmpty { enqueue(connection.afterConnect, on: connection) }
        startWatching(on: connection)
        await reportServerPresence(connection.key, .available(status: "Connected as \(connection.nick)"))
    }

    private func disconnected(_ connection: IRCBridgeConnection, error: IRCError?, requested: Bool, unsentLines: Int) async {
        let key = connection.key
        let wasConnected = connection.state == .connected
        let reason = error?.message ?? "the server closed the connection"
        let waiting = connection.outbox
        let channels = connection.channels.values.filter(\.announced).map { (name: $0.name, key: $0.key) }
        for change in connection.presence.connectionLost() { await reportContact(change, key) }
        close(connection, error: BridgeError(.remoteServerTimeout, "Could not connect to \(key.server): \(reason)"))
        guard wasConnected else { return }
        if requested {
            await reportServerPresence(key, .unavailable())
            return
        }
        let lost = unsentLines > 0 ? " \(unsentLines) line(s) handed to the server may not have arrived." : ""
        await reportServerPresence(key, .away(status: "Reconnecting: \(reason)"))
        await tellUser(key, "Disconnected from \(key.server): \(reason).\(lost) Reconnecting…")
        for channel in channels {
            await report(.roomInterrupted(user: key.user, room: roomAddress(channel.name, on: connection), reason: "Disconnected from \(key.server)"))
        }
        startReconnecting(key, carrying: waiting, channels: channels)
    }

    // MARK: - Numerics

    func handleNumeric(_ code: UInt32, origin: String?, _ params: [String], on connection: IRCBridgeConnection) async {
        let key = connection.key
        if await handleChannelNumeric(code, params, on: connection) { return }
        switch code {
        case 1: // RPL_WELCOME: the first parameter is our nick as the server took it.
            if let nick = params.first, !nick.isEmpty { connection.nick = nick }
        case 2, 3, 4, 251...266:
            break // Greetings and LUSERS: noise for a chat client.
        case 5: // RPL_ISUPPORT <me> TOKEN… :are supported by this server
            if params.count > 2 { connection.isupport.apply(tokens: Array(params[1..<(params.count - 1)])) }
        case 375: // RPL_MOTDSTART
            connection.motd = []
        case 372: // RPL_MOTD <me> :- text
            guard connection.motd != nil, let line = params.last else { return }
            connection.motd?.append(line.hasPrefix("- ") ? String(line.dropFirst(2)) : line)
        case 376, 422: // RPL_ENDOFMOTD, ERR_NOMOTD
            if let motd = connection.motd, !motd.isEmpty {
                await tellUser(key, "Message of the day of \(key.server):\n" + motd.map(IRCFormatting.plainText).joined(separator: "\n"))
            }
            connection.motd = nil
        case 433 where connection.state == .connecting: // ERR_NICKNAMEINUSE
            guard connection.nickAttempts < 3 else {
                close(connection, error: BridgeError(.conflict, "The nick \(connection.requestedNick) is taken on \(key.server)"))
                return
            }
            connection.nickAttempts += 1
            let alternative = connection.requestedNick + String(repeating: "_", count: connection.nickAttempts)
            connection.nick = alternative
            connection.session.send("NICK \(alternative)")
        case 432 where connection.state == .connecting: // ERR_ERRONEUSNICKNAME
            close(connection, error: BridgeError(.notAcceptable, "\(key.server) refuses the nick \(connection.requestedNick)"))
        case 432 where connection.pendingNick != nil, 433 where connection.pendingNick != nil, 436 where connection.pendingNick != nil:
            // A nick change the user asked for from a room, refused.
            guard let (nick, room) = connection.pendingNick else { return }
            connection.pendingNick = nil
            let condition: StanzaError.Condition = code == 432 ? .jidMalformed : .conflict
            await report(.roomNickRefused(user: key.user, room: room, nick: nick,
                                          error: BridgeError(condition, "\(nick): \(IRCFormatting.plainText(params.last ?? "refused"))")))
        case 464, 465: // ERR_PASSWDMISMATCH, ERR_YOUREBANNEDCREEP
            close(connection, error: BridgeError(.notAuthorized, "\(key.server) refused the connection: \(params.last ?? "")"))
        case 303, 730, 731, 734: // ISON and MONITOR
            for change in connection.presence.handleNumeric(code, params) { await reportContact(change, key) }
        case 401: // ERR_NOSUCHNICK <me> <target> :No such nick
            guard params.count >= 2 else { return }
            let target = params[1]
            let folded = connection.caseMapping.fold(target)
            let answeredWhois = finishWhois(folded, on: connection, with: .failure(BridgeError(.itemNotFound, "No such nick: \(target)")))
            if let id = connection.lastSent.removeValue(forKey: folded) {
                await report(.delivery(user: key.user, legacyMessageID: id, outcome: .refused(.itemNotFound, "No such nick: \(target)")))
            } else if !answeredWhois {
                await showServerReply(code, params, on: connection)
            }
        case 301, 311, 312, 313, 317, 318, 319, 330, 338, 378, 671:
            if !collectWhois(code, params, on: connection) { await showServerReply(code, params, on: connection) }
        default:
            await showServerReply(code, params, on: connection)
        }
    }

    /// A numeric nothing else handles reaches the user from the server JID when it is an error,
    /// or when it may answer a raw command they sent.
    private func showServerReply(_ code: UInt32, _ params: [String], on connection: IRCBridgeConnection) async {
        let answersRawCommand = connection.rawRepliesUntil.map { ContinuousClock.now < $0 } ?? false
        guard connection.state == .connected, answersRawCommand || (400..<600).contains(code) else { return }
        let text = params.dropFirst().map(IRCFormatting.plainText).joined(separator: " ")
        await tellUser(connection.key, text.isEmpty ? "\(code)" : "\(text) (\(code))")
    }

    // MARK: - Commands

    func handleMessage(_ kind: IRCMessageKind, origin: String?, params: [String], on connection: IRCBridgeConnection) async {
        let key = connection.key
        if await handleChannelMessage(kind, origin: origin, params: params, on: connection) { return }
        let senderNick = origin.flatMap(Self.nick(fromOrigin:))
        switch kind {
        case .privmsg, .notice, .ctcpAction:
            guard params.count >= 2 else { return }
            guard let nick = senderNick else {
                // A notice from the server itself: shown from the server's JID once registered
                // (the "looking up your hostname" chatter before is noise).
                if kind == .notice, connection.state == .connected {
                    await tellUser(key, IRCFormatting.plainText(params[params.count - 1]))
                }
                return
            }
            // Anything to a channel is not private chat.
            guard let first = params[0].first, !Self.channelPrefixes.contains(first) else { return }
            for change in connection.presence.sawActivity(from: nick) { await reportContact(change, key) }
            connection.conversations.insert(connection.caseMapping.fold(nick))
            let text = IRCFormatting.plainText(params[params.count - 1])
            let body = kind == .ctcpAction ? "/me " + text : text
            guard !text.isEmpty || kind == .ctcpAction else { return }
            await report(.message(user: key.user, from: contactAddress(nick: nick, server: key.server), body: body, legacyMessageID: nil))
        case .ctcpRequest:
            answerCTCP(origin: origin, request: params.last ?? "", on: connection)
        case .nick:
            guard let oldNick = senderNick, let newNick = params.first else { return }
            if connection.caseMapping.equals(oldNick, connection.nick) {
                connection.pendingNick = nil
                connection.nick = newNick
                return
            }
            for change in connection.presence.sawNickChange(from: oldNick, to: newNick) { await reportContact(change, key) }
            // Someone the user talks to changed nick: say so in that conversation, and carry it on.
            let oldFolded = connection.caseMapping.fold(oldNick)
            if connection.conversations.remove(oldFolded) != nil {
                connection.conversations.insert(connection.caseMapping.fold(newNick))
                await report(.message(user: key.user, from: contactAddress(nick: oldNick, server: key.server),
                                      body: "\(oldNick) is now known as \(newNick); write to \(contactAddress(nick: newNick, server: key.server))",
                                      legacyMessageID: nil))
            }
        case .quit:
            guard let nick = senderNick else { return }
            for change in connection.presence.sawQuit(of: nick) { await reportContact(change, key) }
        default:
            break
        }
    }

    /// The nick in a `nick!user@host` prefix; `nil` for a server's prefix.
    static func nick(fromOrigin origin: String) -> String? {
        guard let bang = origin.firstIndex(of: "!"), bang > origin.startIndex else { return nil }
        return String(origin[..<bang])
    }

    /// Answers CTCP VERSION and PING as a client would (libircclient's own answers are off once
    /// requests are handled). Answers go through the throttled queue, so a flood of requests
    /// cannot get the user killed for flooding.
    func answerCTCP(origin: String?, request: String, on connection: IRCBridgeConnection) {
        guard let nick = origin.flatMap(Self.nick(fromOrigin:)) else { return }
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

    func report(_ event: BridgeEvent) async {
        // The sink stores events durably; if it cannot, IRC has no way to ask for a resend.
        try? await events?.report(event)
    }

    /// A message to the user from the IRC server's own JID.
    func tellUser(_ key: IRCBridgeConnection.Key, _ text: String) async {
        await report(.message(user: key.user, from: IRCAddress.server(key.server).localpart(fixedServer: settings.fixedServer),
                              body: text, legacyMessageID: nil))
    }

    /// The legacy address of a nick on a server, as the roster has it (lower-cased, like JIDs).
    func contactAddress(nick: String, server: String) -> String {
        IRCAddress.user(nick: IRCAddress.lowercasedASCII(nick), server: server).localpart(fixedServer: settings.fixedServer)
    }
}
