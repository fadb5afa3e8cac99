import XMPPCore

extension Gateway {
    public func account(forLegacyID legacyID: String) async -> BridgeAccount? {
        do {
            return try await store.registration(bridge: domain, legacyID: legacyID).map(account)
        } catch {
            logger.error("cannot look up a registration: \(error)")
            return nil
        }
    }

    public func contactSettings(user: String, address: String) async -> RegistrationRecord? {
        if let configured = configuredContacts[user], !configured.contains(address) { return nil }
        do {
            return try await store.contactSettings(bridge: domain, user: user, address: address)
        } catch {
            logger.error("cannot read contact settings: \(error)", metadata: ["user": "\(user)", "contact": "\(address)"])
            return nil
        }
    }

    /// An event from the bridge. Returns once a message is stored for delivery, so the bridge
    /// may acknowledge it to its network; throws when it could not be stored.
    ///
    /// Messages and delivery reports are handled in functions of their own, never inlined here:
    /// an async function's frame holds the locals of all its branches, and with both inlined this
    /// one needed 4.3 KiB of its task's stack for every event (now 0.7).
    public func report(_ event: BridgeEvent) async throws {
        switch event {
        case .message(let user, let address, let body, let legacyMessageID):
            try await reportMessage(user: user, address: address, body: body, legacyMessageID: legacyMessageID)
        case .delivery(_, let legacyMessageID, let outcome):
            try await reportDelivery(legacyMessageID: legacyMessageID, outcome: outcome)
        case .login(let user, let state):
            switch state {
            case .offline: loginStates[user] = nil
            default: loginStates[user] = state
            }
            if let userJID = JID(string: user) { send(gatewayPresence(for: user, to: userJID)) }
        case .roomJoined, .roomJoinFailed, .roomLeft, .roomOccupant, .roomMessage, .roomSubject, .roomInvitation, .roomNickRefused, .roomInterrupted:
            await roomEvent(event)
        case .presence(let user, let address, let availability):
            // Reported only while the user is logged in; a late report after logout would
            // otherwise show a contact online forever.
            guard loginStates[user] == .online, contactAvailability[user]?[address] != availability else { return }
            contactAvailability[user, default: [:]][address] = availability
            send(presence(availability, from: contactJID(address), to: JID(string: user)))
        }
    }

    @inline(never)
    private func reportMessage(user: String, address: String, body: String, legacyMessageID: String?) async throws {
        guard let contact = contactJID(address), let userJID = JID(string: user) else {
            logger.error("a message from an address that cannot be a JID was dropped", metadata: ["from": "\(address)"])
            return
        }
        await addToRoster(address, user: user)
        let message = Message(type: .chat, from: contact, to: userJID, id: legacyMessageID ?? makeID(), body: body)
        if !bridge.acknowledgesDelivery && legacyMessageID == nil {
            await outbox.enqueue(message.element, recipient: user)
            return
        }
        // The network's message id makes redelivery (a carrier retrying a webhook) harmless.
        let stored = try await outbox.deliver(message.element, recipient: user, onceFor: legacyMessageID.map { "message:\($0)" })
        if !stored {
            logger.debug("duplicate message ignored", metadata: ["id": "\(legacyMessageID ?? "")"])
        }
    }

    @inline(never)
    private func reportDelivery(legacyMessageID: String, outcome: DeliveryOutcome) async throws {
        logger.debug("delivery report", metadata: ["id": "\(legacyMessageID)", "outcome": "\(outcome)"])
        guard let sent = try await sentMessage(legacyMessageID) else {
            // A fast network can report delivery before the send's answer was recorded: keep
            // the report for when it is, and tell the bridge, whose network may retry.
            if earlyDeliveries.count < 10_000 { earlyDeliveries[legacyMessageID] = outcome }
            throw GatewayError.unknownMessage(legacyMessageID)
        }
        guard let contact = contactJID(sent.peer), let userJID = JID(string: sent.user) else { return }
        let report: XMLElement
        switch outcome {
        case .delivered:
            var receipt = Message(type: .chat, from: contact, to: userJID, id: makeID())
            receipt.element.append(XMLElement("received", namespace: Namespace.receipts, ["id": sent.xmppID]))
            report = receipt.element
        case .failed(let reason):
            var bounce = Message(type: .error, from: contact, to: userJID, id: sent.xmppID)
            bounce.element.append(StanzaError(.recipientUnavailable, text: reason).element)
            report = bounce.element
        case .refused(let condition, let reason):
            var bounce = Message(type: .error, from: contact, to: userJID, id: sent.xmppID)
            bounce.element.append(StanzaError(condition, text: reason).element)
            report = bounce.element
        }
        _ = try await outbox.deliver(report, recipient: userJID.bare.description, onceFor: "delivery:\(legacyMessageID)")
    }
}
