import XMPPCore

extension Gateway {
    func handleIQ(_ iq: IQ) async {
        guard let payload = iq.payload else {
            reply(iq, error: StanzaError(.badRequest, text: "The request has no payload"))
            return
        }
        let toDomain = iq.to?.localpart == nil
        let canRegister = !registrationForm.fields.isEmpty
        switch (payload.namespace, toDomain) {
        case (Namespace.register, true) where canRegister:
            await handleRegistration(iq, payload)
        case (Namespace.gateway, true) where canRegister:
            handleGatewayQuery(iq, payload)
        case (Namespace.commands, true) where canRegister:
            await handleCommand(iq, payload)
        case (Namespace.discoItems, true) where payload[attribute: "node"] == Namespace.commands && canRegister:
            reply(iq, commandList(for: iq.from))
        case (Namespace.discoInfo, false):
            if case .success(let address) = contactAddress(iq.to), bridge.isRoom(address), iq.to?.resourcepart == nil, iq.type == .get {
                await roomDisco(iq, room: address)
            } else {
                handleContactDisco(iq)
            }
        case (Namespace.mucAdmin, false):
            await handleRoomAdmin(iq, payload)
        case (Namespace.mam, false):
            if case .success(let address) = contactAddress(iq.to), bridge.isRoom(address), iq.to?.resourcepart == nil {
                await handleMAM(iq, payload, room: address)
            } else {
                reply(iq, error: StanzaError(.serviceUnavailable, text: "Only rooms have an archive here"))
            }
        case (Namespace.discoItems, false) where payload[attribute: "node"] == nil:
            if case .success(let address) = contactAddress(iq.to), bridge.listsRooms(at: address), iq.type == .get {
                await roomList(iq, payload, at: address)
            } else {
                reply(iq, XMLElement("query", namespace: Namespace.discoItems))
            }
        case (Namespace.vcard, false):
            await handleContactVCard(iq)
        case (Namespace.commands, false) where canRegister:
            await handleContactCommand(iq, payload)
        case (Namespace.discoItems, false) where payload[attribute: "node"] == Namespace.commands:
            handleContactCommandList(iq)
        default:
            if let answer = responder.answer(iq.element) { send(answer) }
        }
    }

    // MARK: XEP-0100 §6.3 jabber:iq:gateway

    func handleGatewayQuery(_ iq: IQ, _ payload: XMLElement) {
        let prompt = bridge.contactPrompt
        switch iq.type {
        case .get:
            reply(iq, XMLElement("query", namespace: Namespace.gateway, children: [
                .element(.text("desc", prompt.description)), .element(.text("prompt", prompt.prompt)),
            ]))
        case .set:
            let input = payload.childText("prompt") ?? ""
            switch bridge.normalizeAddress(input) {
            case .success(let address):
                guard let jid = contactJID(address) else {
                    reply(iq, error: StanzaError(.notAcceptable, text: "'\(input)' cannot be written as a JID"))
                    return
                }
                // XEP-0100 says <jid/>; older clients read <prompt/>.
                reply(iq, XMLElement("query", namespace: Namespace.gateway, children: [
                    .element(.text("jid", jid.description)), .element(.text("prompt", jid.description)),
                ]))
            case .failure(let error):
                reply(iq, error: StanzaError(.notAcceptable, text: error.text))
            }
        default:
            break
        }
    }

    // MARK: Contacts

    /// The legacy address behind a contact JID, or the error to answer with.
    func contactAddress(_ jid: JID?) -> Result<String, StanzaError> {
        guard let localpart = jid?.localpart else {
            return .failure(StanzaError(.jidMalformed, text: "No contact address"))
        }
        let bridge = self.bridge
        switch recentLegacyAddresses.value(for: localpart, { bridge.normalizeAddress(JIDEscaping.unescape($0)) }) {
        case .success(let address): return .success(address)
        case .failure(let error): return .failure(StanzaError(.jidMalformed, text: error.text))
        }
    }

    /// Answers a get on a contact JID with what `answer` makes of the contact's profile; a set is
    /// refused with `refusal`, a JID that is no legacy address with `jid-malformed`.
    func answerContactQuery(_ iq: IQ, refusingSetWith refusal: StanzaError, _ answer: (ContactProfile) -> XMLElement) {
        guard iq.type == .get else {
            reply(iq, error: refusal)
            return
        }
        switch contactAddress(iq.to) {
        case .failure(let error):
            reply(iq, error: error)
        case .success(let address):
            reply(iq, answer(bridge.contactProfile(address)))
        }
    }

    func handleContactDisco(_ iq: IQ) {
        let address = try? contactAddress(iq.to).get()
        let hasSettings = address.map { !bridge.contactSettingsFields(for: $0).isEmpty } ?? false
        answerContactQuery(iq, refusingSetWith: StanzaError(.badRequest, text: "disco#info is a get request")) { profile in
            var query = XMLElement("query", namespace: Namespace.discoInfo)
            query.append(XMLElement("identity", ["category": profile.category, "type": profile.type, "name": profile.name]))
            var features = [Namespace.discoInfo, Namespace.receipts, Namespace.vcard]
            if hasSettings { features.append(Namespace.commands) }
            for feature in features.sorted() {
                query.append(XMLElement("feature", ["var": feature]))
            }
            return query
        }
    }

    /// vCard-temp on a contact: what the network says now (IRC's WHOIS) when the user is
    /// registered, else what the address alone tells.
    func handleContactVCard(_ iq: IQ) async {
        guard iq.type == .get else {
            reply(iq, error: StanzaError(.notAllowed, text: "Contacts' vCards cannot be changed"))
            return
        }
        let address: String
        switch contactAddress(iq.to) {
        case .failure(let error):
            reply(iq, error: error)
            return
        case .success(let value):
            address = value
        }
        var profile = bridge.contactProfile(address)
        if let user = allowedUser(iq.from), let registration = await registration(of: user) {
            if loginStates[user] != .online { await logIn(user) }
            do {
                profile = try await bridge.lookUpContact(address, for: account(registration))
            } catch {
                reply(iq, error: StanzaError(error.condition, text: error.text))
                return
            }
        }
        var vcard = XMLElement("vCard", namespace: Namespace.vcard)
        vcard.append(.text("FN", profile.fullName ?? profile.name))
        vcard.append(.text("NICKNAME", profile.name))
        if let telephone = profile.telephone {
            vcard.append(XMLElement("TEL", children: [.element(XMLElement("VOICE")), .element(.text("NUMBER", telephone))]))
        }
        if let about = profile.about { vcard.append(.text("DESC", about)) }
        reply(iq, vcard)
    }
}
