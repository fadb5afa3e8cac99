import XMPPCore

extension Gateway {
    func handlePresence(_ presence: Presence) async {
        guard let from = presence.from, let to = presence.to else { return }
        guard let user = allowedUser(from) else {
            if presence.type == .subscribe {
                send(Presence(type: .unsubscribed, from: to, to: from.bare).element)
            }
            return
        }
        if to.localpart == nil {
            await gatewayPresence(presence, user: user, from: from)
        } else {
            await contactPresence(presence, user: user, from: from, to: to)
        }
    }

    /// Presence between a user and the gateway itself: XEP-0100's subscription and session flows.
    func gatewayPresence(_ presence: Presence, user: String, from: JID) async {
        let registered = await registration(of: user) != nil
        switch presence.type {
        case .subscribe:
            send(Presence(type: registered ? .subscribed : .unsubscribed, from: domainJID, to: from.bare).element)
            if registered { send(gatewayPresence(for: user, to: from.bare)) }
        case .available:
            guard registered else { return }
            let resource = from.resourcepart ?? ""
            let first = sessions[user, default: []].isEmpty
            sessions[user, default: []].insert(resource)
            if first || loginStates[user] == nil {
                await logIn(user)
            } else {
                send(gatewayPresence(for: user, to: from))
            }
        case .unavailable:
            let resource = from.resourcepart ?? ""
            sessions[user]?.remove(resource)
            guard sessions[user]?.isEmpty != false else { return }
            sessions[user] = nil
            let staysConnected = await registration(of: user)?.staysConnected ?? false
            if !staysConnected {
                await logOut(user)
                send(Presence(type: .unavailable, from: domainJID, to: from.bare).element)
            }
        case .probe:
            if registered { send(gatewayPresence(for: user, to: from)) }
        case .unsubscribe:
            send(Presence(type: .unsubscribed, from: domainJID, to: from.bare).element)
        case .subscribed, .unsubscribed, .error:
            break
        }
    }

    /// The gateway's presence as this user should see it: available while logged in, else
    /// unavailable with the reason.
    func gatewayPresence(for user: String, to: JID) -> XMLElement {
        switch loginStates[user] {
        case .online:
            return Presence(type: .available, from: domainJID, to: to).element
        case .failed(let reason):
            return Presence(type: .unavailable, from: domainJID, to: to, status: "Cannot log in: \(reason)").element
        case .offline, nil:
            return Presence(type: .unavailable, from: domainJID, to: to).element
        }
    }

    /// Presence from a user to a contact JID: adding and removing contacts.
    func contactPresence(_ presence: Presence, user: String, from: JID, to: JID) async {
        let address: String
        switch contactAddress(to) {
        case .failure(let error):
            if let reply = StanzaError.reply(to: presence.element, with: error) { send(reply) }
            return
        case .success(let value):
            address = value
        }
        guard await registration(of: user) != nil else {
            if presence.type == .subscribe || presence.type == .probe,
               let reply = StanzaError.reply(to: presence.element, with: StanzaError(.registrationRequired, text: "Register with \(domain) first")) {
                send(reply)
            }
            return
        }
        if bridge.isRoom(address), let nick = to.resourcepart {
            await roomPresence(presence, user: user, from: from, room: address, nick: nick)
            return
        }
        // Replies come from the contact's canonical JID, which may differ in spelling from `to`.
        let contact = contactJID(address) ?? to
        switch presence.type {
        case .subscribe:
            // The gateway approves on the contact's behalf and asks back, so the roster item
            // ends up with a mutual subscription.
            await saveContact(address, for: user, subscription: .both)
            send(Presence(type: .subscribed, from: contact, to: from.bare).element)
            send(Presence(type: .subscribe, from: contact, to: from.bare).element)
            send(contactPresence(address, user: user, to: from.bare))
            await watchContacts(of: user)
        case .subscribed:
            await saveContact(address, for: user, subscription: .both)
            send(contactPresence(address, user: user, to: from.bare))
        case .unsubscribe, .unsubscribed:
            send(Presence(type: .unsubscribed, from: contact, to: from.bare).element)
            _ = try? await store.deleteContact(bridge: domain, user: user, address: address)
            contactWrites += 1
            contactCache[user]?.remove(address)
            await watchContacts(of: user)
        case .probe:
            send(contactPresence(address, user: user, to: from))
        case .available, .unavailable, .error:
            break
        }
    }

    /// A contact's presence: what the bridge last reported, or — for bridges without presence —
    /// available while the user is logged in.
    func contactPresence(_ address: String, user: String, to: JID) -> XMLElement {
        let availability = contactAvailability[user]?[address]
            ?? (bridge.reportsContactPresence || loginStates[user] != .online ? .unavailable() : .available())
        return presence(availability, from: contactJID(address), to: to)
    }

    func presence(_ availability: ContactAvailability, from: JID?, to: JID?) -> XMLElement {
        switch availability {
        case .available(let status): Presence(type: .available, from: from, to: to, status: status).element
        case .away(let status): Presence(type: .available, from: from, to: to, show: .away, status: status).element
        case .unavailable(let status): Presence(type: .unavailable, from: from, to: to, status: status).element
        }
    }
}
