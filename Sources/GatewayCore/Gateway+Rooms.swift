import XMPPCore

/// XEP-0045 for bridges with rooms: joining and leaving with presence, groupchat both ways with
/// the user's own messages reflected to all their joined resources, occupants and subjects.
///
/// Each user has their own membership on the network (an IRC connection of their own), shared by
/// all their resources: the first resource's presence joins, the last one's unavailable leaves,
/// and a resource that comes later gets the room as it stands.
extension Gateway {
    // MARK: - Presence from the user

    func roomPresence(_ presence: Presence, user: String, from: JID, room: String, nick: String) async {
        let key = RoomState.Key(user: user, room: room)
        let resource = from.description
        let maxStanzas = presence.element.child("x", namespace: Namespace.muc)?.child("history")?[attribute: "maxstanzas"].flatMap { Int($0) }
        switch presence.type {
        case .available:
            if var state = rooms[key] {
                if let maxStanzas { state.historyLimits[resource] = maxStanzas }
                if let current = state.resources[resource] {
                    // The same nick is a status update; another is a nick change (XEP-0045 §7.6).
                    guard nick != state.nick, nick != current, let registration = await registration(of: user) else { return }
                    do {
                        try await bridge.changeRoomNick(room, to: nick, for: account(registration))
                    } catch {
                        sendRoomError(StanzaError(error.condition, text: error.text), room: room, nick: nick, to: resource)
                    }
                    return
                }
                if state.pending[resource] != nil { return }
                if state.joined {
                    state.resources[resource] = nick
                    rooms[key] = state
                    await sendRoomSnapshot(state, room: room, to: resource, requestedNick: nick)
                } else {
                    state.pending[resource] = nick
                    rooms[key] = state
                }
                return
            }
            guard let registration = await registration(of: user) else {
                sendRoomError(StanzaError(.registrationRequired, text: "Register with \(domain) first"), room: room, nick: nick, to: resource)
                return
            }
            if loginStates[user] != .online { await logIn(user) }
            if case .failed(let reason) = loginStates[user] {
                sendRoomError(StanzaError(.recipientUnavailable, text: "Not logged in: \(reason)"), room: room, nick: nick, to: resource)
                return
            }
            var state = RoomState()
            state.pending[resource] = nick
            if let maxStanzas { state.historyLimits[resource] = maxStanzas }
            rooms[key] = state
            let password = presence.element.child("x", namespace: Namespace.muc)?.childText("password")
            do {
                try await bridge.joinRoom(room, nick: nick, password: password, for: account(registration))
            } catch {
                // Resources that came meanwhile get the same answer.
                let waiting = rooms.removeValue(forKey: key)?.pending ?? [resource: nick]
                for (jid, asked) in waiting {
                    sendRoomError(StanzaError(error.condition, text: error.text), room: room, nick: asked, to: jid)
                }
            }
        case .unavailable:
            guard var state = rooms[key] else { return }
            let wasIn = state.resources.removeValue(forKey: resource) != nil || state.pending.removeValue(forKey: resource) != nil
            guard wasIn else { return }
            send(selfPresence(state, room: room, to: resource, type: .unavailable, statuses: [110]))
            if state.isEmpty {
                rooms[key] = nil
                if let registration = await registration(of: user) {
                    await bridge.leaveRoom(room, for: account(registration))
                }
            } else {
                rooms[key] = state
            }
        default:
            break
        }
    }

    /// Every room the user is in is forgotten (the network session ended).
    func forgetRooms(of user: String) {
        for key in rooms.keys where key.user == user {
            let state = rooms.removeValue(forKey: key)!
            for resource in state.resources.keys {
                send(selfPresence(state, room: key.room, to: resource, type: .unavailable, statuses: [110, 332]))
            }
        }
    }

    // MARK: - Messages from the user

    /// A mediated invitation (XEP-0045 §7.8.2): `<x muc#user><invite to='bob%server@…'/>`.
    func roomInvitation(_ message: Message, user: String, room: String) async -> Bool {
        guard let invites = message.element.child("x", namespace: Namespace.mucUser)?.children("invite"), !invites.isEmpty else { return false }
        guard let registration = await registration(of: user) else { return true }
        for invite in invites {
            guard let target = JID(string: invite[attribute: "to"] ?? ""), target.domainpart == domain,
                  case .success(let address) = contactAddress(target)
            else {
                await fail(message, StanzaError(.notAcceptable, text: "Only people on \(domain) can be invited to \(room)"), to: user)
                continue
            }
            do {
                try await bridge.invite(address, to: room, reason: invite.childText("reason"), for: account(registration))
            } catch {
                await fail(message, StanzaError(error.condition, text: error.text), to: user)
            }
        }
        return true
    }

    /// A groupchat message (or subject change) from a user's resource to a room.
    func roomMessage(_ message: Message, user: String, from: JID, room: String) async {
        let key = RoomState.Key(user: user, room: room)
        guard let state = rooms[key], state.joined, state.resources[from.description] != nil else {
            await fail(message, StanzaError(.notAcceptable, text: "Join \(room) before writing to it"), to: user)
            return
        }
        guard let registration = await registration(of: user) else { return }
        if let subject = message.element.childText("subject"), message.body == nil {
            do {
                try await bridge.setRoomSubject(room, subject: subject, for: account(registration))
            } catch {
                await fail(message, StanzaError(error.condition, text: error.text), to: user)
            }
            return
        }
        guard let body = message.body, !body.isEmpty else { return }
        do {
            try await bridge.sendToRoom(room, body: body, for: account(registration))
        } catch {
            await fail(message, StanzaError(error.condition, text: error.text), to: user)
            return
        }
        // IRC does not echo: the user's own message goes back to every joined resource with
        // the id the client gave it, so clients match it to what they sent.
        let id = message.id ?? makeID()
        let stanzaID = archiveRoomMessage(user: user, room: room, nick: state.nick, body: body)
        for resource in state.resources.keys {
            var reflected = Message(type: .groupchat, from: occupantJID(room, state.nick), to: JID(string: resource), id: id, body: body)
            if let originID = message.element.child("origin-id", namespace: Namespace.stanzaID) { reflected.element.append(originID) }
            if let archiveID = liveStanzaIDElement(stanzaID, key) { reflected.element.append(archiveID) }
            send(reflected.element)
        }
    }

    // MARK: - Events from the bridge

    /// A bridge reports one connection's events one at a time (each `report` is awaited), so
    /// awaiting here — the history read of a snapshot, the archive — keeps a room's stanzas in
    /// the order the network sent them.
    func roomEvent(_ event: BridgeEvent) async {
        switch event {
        case .roomJoined(let user, let room, let nick, let occupants, let subject):
            await roomJoined(user: user, room: room, nick: nick, occupants: occupants, subject: subject)
        case .roomJoinFailed(let user, let room, let error):
            let key = RoomState.Key(user: user, room: room)
            guard let state = rooms[key] else { return }
            if state.joined {
                roomLeft(key, kickedBy: nil, reason: error.text)
                return
            }
            rooms[key] = nil
            for (resource, asked) in state.pending {
                sendRoomError(StanzaError(error.condition, text: error.text), room: room, nick: asked, to: resource)
            }
        case .roomLeft(let user, let room, let kickedBy, let reason):
            roomLeft(RoomState.Key(user: user, room: room), kickedBy: kickedBy, reason: reason)
        case .roomOccupant(let user, let room, let change):
            occupantChanged(RoomState.Key(user: user, room: room), change)
        case .roomMessage(let user, let room, let nick, let body, let kind):
            // The hot path of a room's fan-out: addresses come as text from the room's state
            // (resources are the normalized JIDs their stanzas came from), not parsed again.
            let key = RoomState.Key(user: user, room: room)
            guard let state = rooms[key], state.joined else { return }
            let text = kind == .action ? "/me " + body : body
            let stanzaID = archiveRoomMessage(user: user, room: room, nick: nick, body: text)
            let from = cachedOccupantJID(key, nick: nick)
            let archiveID = liveStanzaIDElement(stanzaID, key)
            for resource in state.resources.keys {
                var message = XMLElement("message", namespace: Namespace.component, ["type": "groupchat", "id": stanzaID, "from": from, "to": resource])
                message.append(.text("body", text))
                if let archiveID { message.append(archiveID) }
                send(message)
            }
        case .roomSubject(let user, let room, let subject):
            let key = RoomState.Key(user: user, room: room)
            guard var state = rooms[key], state.joined else { return }
            state.subject = subject
            rooms[key] = state
            for resource in state.resources.keys { send(subjectMessage(subject, room: room, to: resource)) }
        case .roomInterrupted(let user, let room, let reason):
            guard let state = rooms[RoomState.Key(user: user, room: room)], state.joined else { return }
            for resource in state.resources.keys {
                send(selfPresence(state, room: room, to: resource, status: "\(reason); rejoining when the connection is back"))
            }
        case .roomNickRefused(let user, let room, let nick, let error):
            guard let state = rooms[RoomState.Key(user: user, room: room)] else { return }
            for resource in state.resources.keys {
                sendRoomError(StanzaError(error.condition, text: error.text), room: room, nick: nick, to: resource)
            }
        case .roomInvitation(let user, let room, let from, let reason):
            var invitation = Message(type: .normal, from: contactJID(room), to: JID(string: user), id: makeID(),
                                     body: "\(from) invites you to \(room)" + (reason.map { ": \($0)" } ?? ""))
            var invite = XMLElement("invite", ["from": contactJID(from)?.description ?? from])
            if let reason { invite.append(.text("reason", reason)) }
            invitation.element.append(XMLElement("x", namespace: Namespace.mucUser, children: [.element(invite)]))
            send(invitation.element)
        default:
            break
        }
    }

    private func roomJoined(user: String, room: String, nick: String, occupants: [RoomOccupant], subject: RoomSubject?) async {
        let key = RoomState.Key(user: user, room: room)
        guard var state = rooms[key] else { return }  // every resource left while joining
        let byNick = Dictionary(occupants.map { ($0.nick, $0) }, uniquingKeysWith: { _, last in last })
        if state.joined {
            // A rejoin after the network connection came back: only what changed is shown.
            let before = state.occupants
            state.occupants = byNick
            state.nick = nick
            rooms[key] = state
            for resource in state.resources.keys {
                for (gone, occupant) in before where byNick[gone] == nil {
                    send(occupantPresence(occupant, room: room, to: resource, type: .unavailable))
                }
                for (name, occupant) in byNick where before[name] != occupant && name != nick {
                    send(occupantPresence(occupant, room: room, to: resource))
                }
                send(selfPresence(state, room: room, to: resource, status: "Rejoined after the connection to the network came back"))
                if let subject, subject != state.subject { send(subjectMessage(subject, room: room, to: resource)) }
            }
            rooms[key]?.subject = subject
            return
        }
        state.joined = true
        state.nick = nick
        state.occupants = byNick
        state.subject = subject
        let waiting = state.pending
        state.pending = [:]
        state.resources.merge(waiting) { current, _ in current }
        rooms[key] = state
        rooms[key]?.historyLimits = [:]
        for (resource, asked) in waiting.sorted(by: { $0.key < $1.key }) {
            await sendRoomSnapshot(state, room: room, to: resource, requestedNick: asked)
        }
    }

    private func roomLeft(_ key: RoomState.Key, kickedBy: String?, reason: String?) {
        guard let state = rooms.removeValue(forKey: key) else { return }
        for resource in state.resources.keys {
            // 307: kicked; 333: removed because of a problem with the connection.
            send(selfPresence(state, room: key.room, to: resource, type: .unavailable,
                              statuses: kickedBy == nil ? [110, 333] : [110, 307], actor: kickedBy, reason: reason))
        }
        for (resource, asked) in state.pending {
            sendRoomError(StanzaError(.serviceUnavailable, text: reason ?? "Could not join \(key.room)"), room: key.room, nick: asked, to: resource)
        }
    }

    private func occupantChanged(_ key: RoomState.Key, _ change: RoomOccupantChange) {
        guard var state = rooms[key], state.joined else { return }
        let room = key.room
        switch change {
        case .joined(let occupant), .updated(let occupant):
            state.occupants[occupant.nick] = occupant
            rooms[key] = state
            for resource in state.resources.keys {
                send(occupant.nick == state.nick ? selfPresence(state, room: room, to: resource) : occupantPresence(occupant, room: room, to: resource))
            }
        case .left(let nick, let reason):
            guard let occupant = state.occupants.removeValue(forKey: nick) else { return }
            rooms[key] = state
            for resource in state.resources.keys {
                send(occupantPresence(occupant, room: room, to: resource, type: .unavailable, status: reason))
            }
        case .kicked(let nick, let by, let reason):
            guard var occupant = state.occupants.removeValue(forKey: nick) else { return }
            rooms[key] = state
            occupant.role = .none
            for resource in state.resources.keys {
                send(occupantPresence(occupant, room: room, to: resource, type: .unavailable, statuses: [307], actor: by, reason: reason))
            }
        case .nickChanged(let old, let new):
            guard var occupant = state.occupants.removeValue(forKey: old) else { return }
            let isSelf = old == state.nick
            let selfCode = isSelf ? [110] : []
            for resource in state.resources.keys {
                send(occupantPresence(occupant, room: room, to: resource, type: .unavailable, statuses: [303] + selfCode, newNick: new))
            }
            occupant.nick = new
            state.occupants[new] = occupant
            if isSelf { state.nick = new }
            rooms[key] = state
            for resource in state.resources.keys {
                send(occupantPresence(occupant, room: room, to: resource, statuses: selfCode))
            }
        }
    }

    // MARK: - Stanzas

    /// `room/nick` as text, made once per nick and kept with the user's view of the room.
    private func cachedOccupantJID(_ key: RoomState.Key, nick: String) -> String? {
        if let known = rooms[key]?.occupantJIDs[nick] { return known }
        guard let made = occupantJID(key.room, nick)?.description else { return nil }
        if rooms[key]?.occupantJIDs.count ?? 0 >= 1000 { rooms[key]?.occupantJIDs.removeAll() }
        rooms[key]?.occupantJIDs[nick] = made
        return made
    }

    /// A live room message's archive id (XEP-0359). A stanza-id promises an archive to look the
    /// message up in, so there is none when history is not kept.
    private func liveStanzaIDElement(_ id: String, _ key: RoomState.Key) -> XMLElement? {
        policy.history.enabled ? stanzaIDElement(id, by: cachedRoomJID(key)) : nil
    }

    private func cachedRoomJID(_ key: RoomState.Key) -> String {
        if let known = rooms[key]?.roomJID { return known }
        let made = contactJID(key.room)?.description ?? domain
        rooms[key]?.roomJID = made
        return made
    }

    func occupantJID(_ room: String, _ nick: String?) -> JID? {
        guard let roomJID = contactJID(room) else { return nil }
        guard let nick else { return roomJID }
        return try? JID(localpart: roomJID.localpart, domainpart: roomJID.domainpart, resourcepart: nick)
    }

    /// The room as it stands, to one resource, in XEP-0045 §7.2 order: the others, then the
    /// user's own presence (110; 210 when the network gave another nick), then the subject.
    func sendRoomSnapshot(_ state: RoomState, room: String, to resource: String, requestedNick: String) async {
        for (nick, occupant) in state.occupants.sorted(by: { $0.key < $1.key }) where nick != state.nick {
            send(occupantPresence(occupant, room: room, to: resource))
        }
        send(selfPresence(state, room: room, to: resource, statuses: requestedNick == state.nick ? [110] : [110, 210]))
        await sendRoomHistory(room: room, user: JID(string: resource)?.bare.description ?? resource, to: resource,
                              limit: state.historyLimits[resource])
        send(subjectMessage(state.subject ?? RoomSubject(text: ""), room: room, to: resource))
    }

    func subjectMessage(_ subject: RoomSubject, room: String, to resource: String) -> XMLElement {
        var message = Message(type: .groupchat, from: occupantJID(room, subject.setBy), to: JID(string: resource), id: makeID())
        message.element.append(.text("subject", subject.text))
        return message.element
    }

    func selfPresence(
        _ state: RoomState, room: String, to resource: String, type: Presence.Kind = .available,
        statuses: [Int] = [110], actor: String? = nil, reason: String? = nil, status: String? = nil
    ) -> XMLElement {
        let occupant = state.occupants[state.nick] ?? RoomOccupant(nick: state.nick)
        return occupantPresence(occupant, room: room, to: resource, type: type, statuses: statuses, actor: actor, reason: reason, status: status)
    }

    func occupantPresence(
        _ occupant: RoomOccupant, room: String, to resource: String, type: Presence.Kind = .available,
        statuses: [Int] = [], actor: String? = nil, reason: String? = nil, newNick: String? = nil, status: String? = nil
    ) -> XMLElement {
        var presence = Presence(type: type, from: occupantJID(room, occupant.nick), to: JID(string: resource), status: status).element
        var item = XMLElement("item", ["affiliation": occupant.affiliation.rawValue, "role": type == .unavailable ? "none" : occupant.role.rawValue])
        if let newNick { item[attribute: "nick"] = newNick }
        if let actor { item.append(XMLElement("actor", ["nick": actor])) }
        if let reason { item.append(.text("reason", reason)) }
        var x = XMLElement("x", namespace: Namespace.mucUser, children: [.element(item)])
        for code in statuses { x.append(XMLElement("status", ["code": String(code)])) }
        presence.append(x)
        return presence
    }

    func sendRoomError(_ error: StanzaError, room: String, nick: String, to resource: String) {
        var presence = Presence(type: .error, from: occupantJID(room, nick), to: JID(string: resource)).element
        presence.append(XMLElement("x", namespace: Namespace.muc))
        presence.append(error.element)
        send(presence)
    }
}
