import XMPPCore

/// Contact JIDs beyond chat: the roster the bridge watches for presence, and the `configure`
/// command a bridge can offer on a contact (an IRC server's connection settings).
extension Gateway {
    /// Tells the bridge the user's whole roster on it, when the user is logged in.
    ///
    /// From the contact cache, which every change of the user's contacts goes through: a store
    /// read per roster change cost every new IRC connection in a burst a parked task and a
    /// trip to the database (their frames left ~2.5 KiB of fragmented heap per connection).
    func watchContacts(of user: String) async {
        guard loginStates[user] == .online, let registration = await registration(of: user) else { return }
        let addresses = await contactAddresses(of: user)
        await bridge.watchContacts(addresses, for: account(registration))
    }

    static let configureNode = "configure"

    func handleContactCommandList(_ iq: IQ) {
        var query = XMLElement("query", namespace: Namespace.discoItems, ["node": Namespace.commands])
        if let to = iq.to, let address = try? contactAddress(to).get(), !bridge.contactSettingsFields(for: address).isEmpty {
            query.append(XMLElement("item", ["jid": to.description, "node": Self.configureNode, "name": "Configure"]))
        }
        reply(iq, query)
    }

    /// XEP-0050 `configure` on a contact JID: a form of the bridge's fields for that address,
    /// filled with what the user set before (secrets left empty, and kept when left empty).
    func handleContactCommand(_ iq: IQ, _ payload: XMLElement) async {
        let address: String
        switch contactAddress(iq.to) {
        case .failure(let error):
            reply(iq, error: error)
            return
        case .success(let value):
            address = value
        }
        let fields = bridge.contactSettingsFields(for: address)
        guard iq.type == .set, payload[attribute: "node"] == Self.configureNode, !fields.isEmpty else {
            reply(iq, error: StanzaError(.itemNotFound, text: "No such command"))
            return
        }
        guard let user = allowedUser(iq.from) else {
            reply(iq, error: StanzaError(.forbidden, text: "Only users of \(policy.allowedDomains.sorted().joined(separator: ", ")) may use \(domain)"))
            return
        }
        guard await registration(of: user) != nil else {
            reply(iq, error: StanzaError(.registrationRequired, text: "Register with \(domain) first"))
            return
        }
        let node = Self.configureNode
        let session = payload[attribute: "sessionid"] ?? makeID()
        if payload[attribute: "action"] == "cancel" {
            reply(iq, commandResponse(node, session, status: "canceled"))
            return
        }
        let form = RegistrationForm(fields: fields, instructions: "Settings for \(address). Leave secrets empty to keep them.")
        let current = await contactSettings(user: user, address: address)
        let submitted = payload.child("x", namespace: Namespace.dataForms).flatMap { try? DataForm(element: $0) }
        guard let submission = submitted, submission.type == .submit else {
            var dataForm = form.dataForm(current: current)
            dataForm.title = "Settings for \(address)"
            dataForm.instructions = [form.instructions]
            reply(iq, commandResponse(node, session, status: "executing", form: dataForm, actions: ["complete"]))
            return
        }
        var values: [String: String] = [:]
        for field in fields {
            let value = submission.values(of: field.name).joined(separator: "\n").trimmedWhitespace
            if !value.isEmpty { values[field.name] = value }
            if field.isSecret && value.isEmpty { values[field.name] = current?.secrets[field.name] }
        }
        let record: RegistrationRecord
        do {
            record = try await bridge.validateContactSettings(values, for: address)
        } catch {
            reply(iq, error: StanzaError(error.condition, text: error.text))
            return
        }
        do {
            try await store.saveContactSettings(record, bridge: domain, user: user, address: address)
            contactWrites += 1
            configuredContacts[user]?.insert(address)
        } catch {
            logger.error("cannot store contact settings: \(error)", metadata: ["user": "\(user)"])
            reply(iq, error: StanzaError(.internalServerError, text: "The settings could not be stored"))
            return
        }
        reply(iq, commandResponse(node, session, status: "completed", note: "Saved. They apply from the next connection to \(address)."))
    }
}
