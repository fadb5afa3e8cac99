import GatewayCore

extension IRCBridge {
    // MARK: - Inbound

    func startConsuming(_ connection: IRCBridgeConnection) {
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

    func handle(_ event: IRCEvent, connection id: UInt64, key: IRCBridgeConnection.Key) async {
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

    func handleNumeric(_ code: UInt32, _ params: [String], on connection: IRCBridgeConnection) async {
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

    func handleMessage(_ kind: IRCMessageKind, origin: String?, params: [String], on connection: IRCBridgeConnection) async {
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
    func answerCTCP(origin: String?, request: String, on connection: IRCBridgeConnection) {
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

    func report(_ event: BridgeEvent) async {
        // The sink stores events durably; if it cannot, IRC has no way to ask for a resend.
        try? await events?.report(event)
    }
}
