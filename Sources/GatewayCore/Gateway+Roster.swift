import XMPPCore

extension Gateway {
    /// XEP-0356: the server tells a component at connection which privileges it has.
    func handlePrivilege(_ privilege: XMLElement, from host: String) {
        let roster = privilege.children("perm").first { $0[attribute: "access"] == "roster" }
        let type = roster?[attribute: "type"] ?? "none"
        if type == "set" || type == "both" {
            rosterPrivilegedHosts.insert(host)
        } else {
            rosterPrivilegedHosts.remove(host)
        }
        logger.info("roster privilege from \(host): \(type)")
    }

    /// The user's contact addresses, read once and then kept up to date here.
    func contactAddresses(of user: String) async -> Set<String> {
        if let cached = contactCache[user] { return cached }
        let writes = contactWrites
        guard let contacts = try? await store.contacts(bridge: domain, user: user) else { return [] }
        let addresses = Set(contacts.map(\.address))
        if contactCache.count > 100_000 { contactCache.removeAll() }
        if contactWrites == writes, contactCache[user] == nil { contactCache[user] = addresses }
        return contactCache[user] ?? addresses
    }

    func saveContact(_ address: String, for user: String, subscription: Contact.Subscription, name: String? = nil) async {
        let contact = Contact(address: address, name: name ?? bridge.contactProfile(address).name, groups: [identity.name], subscription: subscription)
        do {
            try await store.saveContact(contact, bridge: domain, user: user)
            contactWrites += 1
            contactCache[user]?.insert(address)
        } catch {
            logger.error("cannot store a contact: \(error)", metadata: ["user": "\(user)"])
        }
    }

    /// Puts a contact the user has not added yet into their roster: pushed straight in where the
    /// server granted roster access (XEP-0356), else asked for with a subscription request.
    func addToRoster(_ address: String, user: String) async {
        let known = await contactAddresses(of: user).contains(address)
        guard !known, let contact = contactJID(address), let userJID = JID(string: user) else { return }
        let name = bridge.contactProfile(address).name
        let push = rosterPrivilegedHosts.contains(userJID.domainpart)
        await saveContact(address, for: user, subscription: push ? .both : .none, name: name)
        await watchContacts(of: user)
        if push {
            var item = XMLElement("item", ["jid": contact.description, "name": name, "subscription": "both"])
            item.append(.text("group", identity.name))
            let push = IQ(type: .set, from: domainJID, to: userJID, id: makeID(),
                          payload: XMLElement("query", namespace: Namespace.roster, children: [.element(item)]))
            send(push.element)
        } else {
            var subscribe = Presence(type: .subscribe, from: contact, to: userJID)
            subscribe.element.append(.text("nick", namespace: "http://jabber.org/protocol/nick", name))
            send(subscribe.element)
        }
    }
}
