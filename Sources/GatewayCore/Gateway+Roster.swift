import XMPPCore

extension Gateway {
    /// XEP-0356: the server tells a component at connection which privileges it has.
    func handlePrivilege(_ privilege: XMLElement) {
        let roster = privilege.children("perm").first { $0[attribute: "access"] == "roster" }
        let type = roster?[attribute: "type"] ?? "none"
        rosterPrivilege = type == "set" || type == "both"
        logger.info("roster privilege: \(type)", metadata: ["push": "\(rosterPrivilege)"])
    }

    func saveContact(_ address: String, for user: String, subscription: Contact.Subscription, name: String? = nil) async {
        let contact = Contact(address: address, name: name ?? bridge.contactProfile(address).name, groups: [identity.name], subscription: subscription)
        do {
            try await store.saveContact(contact, bridge: domain, user: user)
        } catch {
            logger.error("cannot store a contact: \(error)", metadata: ["user": "\(user)"])
        }
    }

    /// Puts a contact the user has not added yet into their roster: pushed straight in where the
    /// server granted roster access (XEP-0356), else asked for with a subscription request.
    func addToRoster(_ address: String, user: String) async {
        let known = ((try? await store.contacts(bridge: domain, user: user)) ?? []).contains { $0.address == address }
        guard !known, let contact = contactJID(address), let userJID = JID(string: user) else { return }
        let name = bridge.contactProfile(address).name
        await saveContact(address, for: user, subscription: rosterPrivilege ? .both : .none, name: name)
        if rosterPrivilege {
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
