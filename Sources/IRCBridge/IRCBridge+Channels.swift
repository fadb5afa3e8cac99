import GatewayCore
import XMPPCore

/// IRC channels as XEP-0045 rooms: `#chan%server`. JOIN, PART, messages and topics on the
/// user's connection; what the server says about the channel goes to the core as room events.
extension IRCBridge {
    // MARK: - Bridge

    public nonisolated func isRoom(_ address: String) -> Bool {
        // A channel's address starts with its prefix, with or without a fixed server: anything
        // else is not one, and a private message's address is parsed once, by the send.
        guard let first = address.unicodeScalars.first, IRCAddress.defaultChannelTypes.unicodeScalars.contains(first) else { return false }
        if case .channel? = try? IRCAddress(localpart: address, fixedServer: settings.fixedServer, maxNickLength: settings.maxNickLength) { return true }
        return false
    }

    public nonisolated func occupantAddress(room: String, nick: String) -> String? {
        guard case .channel(_, let server)? = try? IRCAddress(localpart: room, fixedServer: settings.fixedServer, maxNickLength: settings.maxNickLength),
              (try? IRCAddress.validateNick(nick, maxLength: settings.maxNickLength)) != nil
        else { return nil }
        return IRCAddress.user(nick: IRCAddress.lowercasedASCII(nick), server: server).localpart(fixedServer: settings.fixedServer)
    }

    public nonisolated func listsRooms(at address: String) -> Bool {
        guard settings.fixedServer == nil else { return false }
        if case .server? = try? IRCAddress(localpart: address, fixedServer: nil, maxNickLength: settings.maxNickLength) { return true }
        return false
    }

    public func joinRoom(_ room: String, nick: String, password: String?, for account: BridgeAccount) async throws(BridgeError) {
        let (name, server) = try channel(room)
        let key = password.flatMap { $0.isEmpty ? nil : $0 }
        let line: String
        do throws(IRCLineError) {
            // One channel per JOIN: a comma in the name or key would join a second one.
            line = Self.withoutLineEnd(try IRCLineSplitter.command("JOIN", [name] + (key.map { [$0] } ?? []), trailing: nil))
        } catch {
            throw BridgeError(key == nil ? .jidMalformed : .notAcceptable, "\(error)")
        }
        let connection = try await connectedConnection(for: account, server: server)
        let folded = connection.caseMapping.fold(name)
        if let existing = connection.channels[folded], existing.announced {
            // Already in it (a raw JOIN, or a join racing a leave): the core wants it announced.
            await report(.roomJoined(user: account.user, room: room, nick: connection.nick, occupants: existing.occupants, subject: existing.topic))
            return
        }
        connection.channels[folded] = IRCChannel(name: name, key: key, caseMapping: connection.caseMapping)
        enqueue([line], on: connection)
    }

    public func leaveRoom(_ room: String, for account: BridgeAccount) async {
        guard let (name, server) = try? channel(room),
              let connection = connections[Self.key(account.user, server)],
              connection.channels.removeValue(forKey: connection.caseMapping.fold(name)) != nil,
              let line = try? IRCLineSplitter.command("PART", [name], trailing: nil)
        else { return }
        connection.partsInFlight[connection.caseMapping.fold(name), default: 0] += 1
        enqueue([Self.withoutLineEnd(line)], on: connection)
    }

    public func sendToRoom(_ room: String, body: String, for account: BridgeAccount) async throws(BridgeError) {
        let connection = try await joinedConnection(room, account)
        let (name, _) = try channel(room)
        do throws(IRCLineError) {
            enqueue(try IRCLineSplitter(nick: connection.nick).lines(.privmsg, target: name, body: body, lineEnd: ""),
                    on: connection, batchable: true)
        } catch {
            throw BridgeError(.notAcceptable, "\(error)")
        }
    }

    public func setRoomSubject(_ room: String, subject: String, for account: BridgeAccount) async throws(BridgeError) {
        let connection = try await joinedConnection(room, account)
        let (name, _) = try channel(room)
        do throws(IRCLineError) {
            // A line break would end the TOPIC line and start a command of the user's choosing:
            // the command builder refuses it, and the user is told.
            enqueue([Self.withoutLineEnd(try IRCLineSplitter.command("TOPIC", [name], trailing: subject))], on: connection)
        } catch {
            throw BridgeError(.notAcceptable, "The topic cannot be set: \(error)")
        }
    }

    /// IRC has one nick per connection: changing it in one room changes it everywhere on that
    /// server, and every room the user is in shows the change.
    public func changeRoomNick(_ room: String, to nick: String, for account: BridgeAccount) async throws(BridgeError) {
        let connection = try await joinedConnection(room, account)
        do throws(IRCAddressError) {
            try IRCAddress.validateNick(nick, maxLength: settings.maxNickLength)
        } catch {
            throw BridgeError(.jidMalformed, error.text)
        }
        connection.pendingNick = (nick, room)
        enqueue(["NICK " + nick], on: connection)
    }

    /// KICK, ban (+b nick!*@* then KICK) and +o/-o/-v; every parameter goes through the command
    /// builder, so a nick or reason cannot carry a second command.
    public func moderate(_ nick: String, in room: String, _ action: RoomModeration, for account: BridgeAccount) async throws(BridgeError) {
        let connection = try await joinedConnection(room, account)
        let (name, _) = try channel(room)
        do throws(IRCAddressError) {
            try IRCAddress.validateNick(nick, maxLength: 64)
        } catch {
            throw BridgeError(.jidMalformed, error.text)
        }
        do throws(IRCLineError) {
            var lines: [String] = []
            switch action {
            case .kick(let reason):
                lines.append(try IRCLineSplitter.command("KICK", [name, nick], trailing: reason))
            case .ban(let reason):
                lines.append(try IRCLineSplitter.command("MODE", [name, "+b", nick + "!*@*"], trailing: nil))
                lines.append(try IRCLineSplitter.command("KICK", [name, nick], trailing: reason))
            case .role(let role):
                let change = switch role {
                case .moderator: "+o"
                case .participant: "-o"
                case .visitor, .none: "-v"
                }
                lines.append(try IRCLineSplitter.command("MODE", [name, change, nick], trailing: nil))
            }
            enqueue(lines.map(Self.withoutLineEnd), on: connection)
        } catch {
            throw BridgeError(.notAcceptable, "\(error)")
        }
    }

    public func invite(_ address: String, to room: String, reason: String?, for account: BridgeAccount) async throws(BridgeError) {
        let (name, server) = try channel(room)
        guard case .user(let nick, let inviteeServer)? = try? IRCAddress(localpart: address, fixedServer: settings.fixedServer, maxNickLength: settings.maxNickLength),
              inviteeServer.lowercased() == server
        else {
            throw BridgeError(.notAcceptable, "Only people on \(server) can be invited to \(name)")
        }
        let connection = try await joinedConnection(room, account)
        do throws(IRCLineError) {
            enqueue([Self.withoutLineEnd(try IRCLineSplitter.command("INVITE", [nick, name], trailing: nil))], on: connection)
        } catch {
            throw BridgeError(.jidMalformed, "\(error)")
        }
    }

    /// LIST on the user's connection to the server; one LIST at a time per connection, shared
    /// by everyone asking meanwhile.
    public func listRooms(at address: String, for account: BridgeAccount) async throws(BridgeError) -> [RoomListing] {
        guard case .server(let server)? = try? IRCAddress(localpart: address, fixedServer: settings.fixedServer, maxNickLength: settings.maxNickLength) else {
            throw BridgeError(.itemNotFound, "\(address) is not an IRC server")
        }
        let connection = try await connectedConnection(for: account, server: server)
        if connection.roomList == nil {
            connection.roomList = IRCRoomListRequest()
            enqueue(["LIST"], on: connection)
            let key = connection.key
            let id = connection.id
            let timeout = settings.listTimeout
            // Cancelled when the list is complete: a sleep left running could fail the next LIST.
            connection.roomList?.timer = OneShotTimer(after: timeout) { [weak self] in
                Task { await self?.finishRoomList(key, id, .failure(BridgeError(.remoteServerTimeout, "\(server) did not finish LIST within \(timeout)"))) }
            }
        }
        let result = await withCheckedContinuation { continuation in
            connection.roomList?.waiters.append(continuation)
        }
        return try result.get()
    }

    func finishRoomList(_ key: IRCBridgeConnection.Key, _ id: UInt64, _ result: Result<[RoomListing], BridgeError>) {
        guard let connection = connections[key], connection.id == id, let request = connection.roomList else { return }
        connection.roomList = nil
        request.timer?.cancel()
        for waiter in request.waiters { waiter.resume(returning: result) }
    }

    public func roomInfo(_ room: String, for account: BridgeAccount?) async -> RoomInfo {
        guard let (name, server) = try? channel(room) else { return RoomInfo(name: room) }
        if let account, let connection = connections[Self.key(account.user, server)],
           let channel = connection.channels[connection.caseMapping.fold(name)] {
            return channel.info
        }
        return RoomInfo(name: name)
    }

    private func channel(_ room: String) throws(BridgeError) -> (name: String, server: String) {
        let address: IRCAddress
        do throws(IRCAddressError) {
            address = try IRCAddress(localpart: room, fixedServer: settings.fixedServer, maxNickLength: settings.maxNickLength)
        } catch {
            throw BridgeError(.jidMalformed, error.text)
        }
        guard case .channel(let name, let server) = address else { throw BridgeError(.jidMalformed, "\(room) is not a channel") }
        return (name, server.lowercased())
    }

    private func joinedConnection(_ room: String, _ account: BridgeAccount) async throws(BridgeError) -> IRCBridgeConnection {
        let (name, server) = try channel(room)
        guard let connection = connections[Self.key(account.user, server)], connection.state == .connected,
              connection.channels[connection.caseMapping.fold(name)]?.joined == true
        else {
            throw BridgeError(.notAcceptable, "You are not in \(name) right now (the connection to \(server) is down)")
        }
        return connection
    }

    /// The room address of a channel on a connection, as the core knows it.
    func roomAddress(_ name: String, on connection: IRCBridgeConnection) -> String {
        IRCAddress.channel(name: IRCAddress.lowercasedASCII(name), server: connection.key.server).localpart(fixedServer: settings.fixedServer)
    }

    // MARK: - Numerics

    /// Channel numerics; false when `code` is not one.
    func handleChannelNumeric(_ code: UInt32, _ params: [String], on connection: IRCBridgeConnection) async -> Bool {
        let user = connection.key.user
        switch code {
        case 332: // RPL_TOPIC <me> <chan> :topic
            guard params.count >= 3, let folded = knownChannel(params[1], on: connection) else { return true }
            let setBy = connection.channels[folded]?.topic?.setBy
            connection.channels[folded]?.topic = RoomSubject(text: IRCFormatting.plainText(params[2]), setBy: setBy)
        case 333: // RPL_TOPICWHOTIME <me> <chan> <setter> <time>
            guard params.count >= 3, let folded = knownChannel(params[1], on: connection) else { return true }
            let setter = Self.nick(fromOrigin: params[2]) ?? params[2]
            connection.channels[folded]?.topic?.setBy = setter
        case 353: // RPL_NAMREPLY <me> <symbol> <chan> :names
            guard params.count >= 4, let folded = knownChannel(params[2], on: connection) else { return true }
            connection.channels[folded]?.addNames(params[3], prefixes: connection.isupport.prefixes)
        case 366: // RPL_ENDOFNAMES <me> <chan> :End of NAMES list
            guard params.count >= 2, let folded = knownChannel(params[1], on: connection),
                  var channel = connection.channels[folded], channel.joined, !channel.announced
            else { return true }
            channel.announced = true
            connection.channels[folded] = channel
            await report(.roomJoined(user: user, room: roomAddress(channel.name, on: connection), nick: connection.nick,
                                     occupants: channel.occupants, subject: channel.topic))
            if let line = try? IRCLineSplitter.command("MODE", [channel.name], trailing: nil) {
                enqueue([Self.withoutLineEnd(line)], on: connection)  // for disco#info
            }
        case 324: // RPL_CHANNELMODEIS <me> <chan> <modes> [params]
            guard params.count >= 3, let folded = knownChannel(params[1], on: connection) else { return true }
            _ = connection.channels[folded]?.applyModes(params[2], Array(params.dropFirst(3)), isupport: connection.isupport)
        case 329, 328:
            break // creation time, channel URL
        case 321:
            break // RPL_LISTSTART
        case 322: // RPL_LIST <me> <chan> <visible> :<topic>
            guard params.count >= 3, connection.roomList != nil else { return false }
            let topic = params.count > 3 ? IRCFormatting.plainText(params[3]) : nil
            connection.roomList?.rooms.append(RoomListing(
                address: roomAddress(params[1], on: connection), name: params[1],
                occupantCount: Int(params[2]), subject: topic?.isEmpty == false ? topic : nil))
        case 323: // RPL_LISTEND
            guard let request = connection.roomList else { return false }
            finishRoomList(connection.key, connection.id, .success(request.rooms))
        case 403, 405, 437, 471, 473, 474, 475, 476, 477, 479, 489:
            // Join refusals: <me> <chan> :reason
            guard params.count >= 2, let folded = knownChannel(params[1], on: connection),
                  let channel = connection.channels[folded], !channel.announced
            else { return false }
            connection.channels[folded] = nil
            let reason = IRCFormatting.plainText(params.last ?? "")
            let condition: StanzaError.Condition = switch code {
            case 474: .forbidden               // banned
            case 473: .registrationRequired    // invite only
            case 475: .notAuthorized           // bad key
            case 471, 405, 437: .serviceUnavailable  // full, too many channels, unavailable
            case 477, 489: .notAllowed         // registered nicks / secure connections only
            default: .jidMalformed             // no such channel, bad name
            }
            await report(.roomJoinFailed(user: user, room: roomAddress(channel.name, on: connection),
                                         error: BridgeError(condition, "\(channel.name): \(reason)")))
        default:
            return false
        }
        return true
    }

    private func knownChannel(_ name: String, on connection: IRCBridgeConnection) -> String? {
        let folded = connection.caseMapping.fold(name)
        return connection.channels[folded] == nil ? nil : folded
    }

    // MARK: - Commands

    /// Channel events; false when the message is not about a channel we are in.
    func handleChannelMessage(_ kind: IRCMessageKind, origin: String?, params: [String], on connection: IRCBridgeConnection) async -> Bool {
        let user = connection.key.user
        let nick = origin.flatMap(Self.nick(fromOrigin:)) ?? origin ?? ""
        let isSelf = connection.caseMapping.equals(nick, connection.nick)
        switch kind {
        case .join:
            guard let name = params.first, let folded = knownChannel(name, on: connection) else { return isSelf }
            if isSelf {
                connection.channels[folded]?.joined = true
            } else if connection.channels[folded]?.announced == true {
                connection.channels[folded]?.add(nick)
                await report(.roomOccupant(user: user, room: roomAddress(name, on: connection), change: .joined(RoomOccupant(nick: nick))))
            }
        case .part:
            if isSelf, let name = params.first, let waiting = connection.partsInFlight[connection.caseMapping.fold(name)] {
                connection.partsInFlight[connection.caseMapping.fold(name)] = waiting > 1 ? waiting - 1 : nil
                return true
            }
            guard let name = params.first, let folded = knownChannel(name, on: connection) else { return true }
            let room = roomAddress(name, on: connection)
            if isSelf {
                // A PART the core did not ask for (a raw command): the room is left.
                connection.channels[folded] = nil
                await report(.roomLeft(user: user, room: room, kickedBy: nil, reason: "You left \(name)"))
            } else if connection.channels[folded]?.remove(nick) != nil {
                await report(.roomOccupant(user: user, room: room, change: .left(nick: nick, reason: params.count > 1 ? IRCFormatting.plainText(params[1]) : nil)))
            }
        case .quit:
            let reason = params.first.map { "Quit: " + IRCFormatting.plainText($0) } ?? "Quit"
            for (folded, var channel) in connection.channels where channel.announced && channel.member(nick) != nil {
                channel.remove(nick)
                connection.channels[folded] = channel
                await report(.roomOccupant(user: user, room: roomAddress(channel.name, on: connection), change: .left(nick: nick, reason: reason)))
            }
            return false  // presence of contacts wants the QUIT too
        case .kick:
            guard params.count >= 2, let folded = knownChannel(params[0], on: connection) else { return true }
            let room = roomAddress(params[0], on: connection)
            let target = params[1]
            let reason = params.count > 2 ? IRCFormatting.plainText(params[2]) : nil
            if connection.caseMapping.equals(target, connection.nick) {
                connection.channels[folded] = nil
                await report(.roomLeft(user: user, room: room, kickedBy: nick, reason: reason))
            } else if let member = connection.channels[folded]?.remove(target) {
                await report(.roomOccupant(user: user, room: room, change: .kicked(nick: member.nick, by: nick, reason: reason)))
            }
        case .nick:
            guard let new = params.first else { return false }
            for (folded, var channel) in connection.channels where channel.announced {
                guard let old = channel.member(nick)?.nick, channel.rename(old, to: new) else { continue }
                connection.channels[folded] = channel
                await report(.roomOccupant(user: user, room: roomAddress(channel.name, on: connection), change: .nickChanged(from: old, to: new)))
            }
            return false  // our own nick and contacts' presence are handled too
        case .mode:
            guard params.count >= 2, let folded = knownChannel(params[0], on: connection) else { return false }
            let changed = connection.channels[folded]?.applyModes(params[1], Array(params.dropFirst(2)), isupport: connection.isupport) ?? []
            let room = roomAddress(params[0], on: connection)
            for member in changed {
                await report(.roomOccupant(user: user, room: room, change: .updated(IRCChannel.occupant(member))))
            }
        case .topic:
            guard params.count >= 2, let folded = knownChannel(params[0], on: connection) else { return true }
            let subject = RoomSubject(text: IRCFormatting.plainText(params[1]), setBy: nick)
            connection.channels[folded]?.topic = subject
            await report(.roomSubject(user: user, room: roomAddress(params[0], on: connection), subject: subject))
        case .channel, .channelNotice, .ctcpAction:
            guard params.count >= 2, let folded = knownChannel(params[0], on: connection) else { return kind != .ctcpAction }
            guard connection.channels[folded]?.announced == true else { return true }
            let messageKind: RoomMessageKind = kind == .ctcpAction ? .action : kind == .channelNotice ? .notice : .normal
            await report(.roomMessage(user: user, room: roomAddress(params[0], on: connection), nick: nick,
                                      body: IRCFormatting.plainText(params[1]), kind: messageKind))
        case .invite:
            guard params.count >= 2 else { return true }
            await report(.roomInvitation(user: user, room: roomAddress(params[1], on: connection),
                                         from: contactAddress(nick: nick, server: connection.key.server), reason: nil))
        default:
            return false
        }
        return true
    }
}
