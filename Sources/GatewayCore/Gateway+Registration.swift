import XMPPCore

extension Gateway {
    /// XEP-0077 on the bridge domain.
    func handleRegistration(_ iq: IQ, _ payload: XMLElement) async {
        guard let user = allowedUser(iq.from) else {
            let domains = policy.allowedDomains.sorted().joined(separator: ", ")
            reply(iq, error: StanzaError(.forbidden, text: "Only users of \(domains) may register with \(domain)"))
            return
        }
        let current = await registration(of: user)
        switch iq.type {
        case .get:
            reply(iq, registrationForm.query(current: current.map(record)))
        case .set:
            switch registrationForm.parse(payload) {
            case .failure(let error):
                reply(iq, error: StanzaError(error.condition, text: error.text))
            case .success(.remove):
                guard current != nil else {
                    reply(iq, error: StanzaError(.itemNotFound, text: "\(user) is not registered with \(domain)"))
                    return
                }
                await unregister(user)
                reply(iq)
            case .success(.register(let values)):
                if let error = await register(user, values: values, current: current) {
                    reply(iq, error: error)
                } else {
                    reply(iq)
                }
            }
        default:
            break
        }
    }

    /// Validates and stores a registration or a change of one; nil on success, else the error
    /// to answer with. A new user is then asked for a presence subscription (XEP-0100).
    func register(_ user: String, values: [String: String], current: Registration?) async -> StanzaError? {
        var values = values
        // A secret left empty in a change keeps its stored value: forms never show secrets.
        for field in registrationForm.fields where field.isSecret && (values[field.name] ?? "").isEmpty {
            values[field.name] = current?.secrets[field.name]
        }
        for field in registrationForm.fields where field.isRequired && (values[field.name] ?? "").isEmpty {
            return StanzaError(.notAcceptable, text: "\(field.label) is required")
        }
        let staysConnected = values.removeValue(forKey: Self.stayConnectedField.name)
            .map { ["1", "true"].contains($0.lowercased()) } ?? current?.staysConnected ?? false
        let record: RegistrationRecord
        do {
            record = try await bridge.validateRegistration(RegistrationSubmission(user: user, values: values, previous: current.map(self.record)))
        } catch {
            return StanzaError(error.condition, text: error.text)
        }
        let registration = Registration(
            id: current?.id, bridge: domain, user: user, legacyID: record.legacyID,
            fields: record.fields, secrets: record.secrets, staysConnected: staysConnected && bridge.canStayConnected
        )
        do {
            registrationCache[user] = nil
            registrationCache[user] = .some(try await store.save(registration))
        } catch StoreError.legacyIDTaken {
            return StanzaError(.conflict, text: "\(record.legacyID ?? "This account") is already registered with \(domain) by another user")
        } catch {
            logger.error("cannot store a registration: \(error)", metadata: ["user": "\(user)"])
            return StanzaError(.internalServerError, text: "The registration could not be stored")
        }
        logger.info(current == nil ? "user registered" : "registration changed", metadata: ["user": "\(user)"])
        if current == nil {
            send(Presence(type: .subscribe, from: domainJID, to: JID(string: user)).element)
        } else if loginStates[user] != nil {
            // New credentials take effect with a fresh login.
            await logOut(user)
        }
        if sessions[user]?.isEmpty == false {
            await logIn(user)
        }
        return nil
    }

    /// Removes a user: logged out, contacts and stored data gone, subscriptions cancelled.
    func unregister(_ user: String) async {
        await logOut(user)
        let contacts = (try? await store.contacts(bridge: domain, user: user)) ?? []
        for contact in contacts {
            let from = contactJID(contact.address)
            send(Presence(type: .unsubscribed, from: from, to: JID(string: user)).element)
            send(Presence(type: .unsubscribe, from: from, to: JID(string: user)).element)
        }
        do {
            try await store.deleteRegistration(bridge: domain, user: user)
            registrationCache[user] = .some(nil)
            contactCache[user] = nil
            configuredContacts[user] = nil
        } catch {
            logger.error("cannot delete a registration: \(error)", metadata: ["user": "\(user)"])
        }
        sessions[user] = nil
        loginStates[user] = nil
        for type in [Presence.Kind.unsubscribe, .unsubscribed, .unavailable] {
            send(Presence(type: type, from: domainJID, to: JID(string: user)).element)
        }
        logger.info("user unregistered", metadata: ["user": "\(user)"])
    }

    /// The registration as forms show it: the bridge's fields, plus the core's own choices.
    func record(_ registration: Registration) -> RegistrationRecord {
        var fields = registration.fields
        if bridge.canStayConnected { fields[Self.stayConnectedField.name] = registration.staysConnected ? "1" : "0" }
        return RegistrationRecord(legacyID: registration.legacyID, fields: fields, secrets: registration.secrets)
    }

    // MARK: Logging in and out of the foreign network

    func logIn(_ user: String) async {
        guard loginStates[user] != .online, !loggingIn.contains(user) else { return }
        guard let registration = await registration(of: user) else { return }
        // Logging in takes a while: what this batch already wrote goes now.
        OutputBatch.current?.release()
        loggingIn.insert(user)
        defer { loggingIn.remove(user) }
        do {
            try await bridge.logIn(account(registration))
            loginStates[user] = .online
            send(Presence(type: .available, from: domainJID, to: JID(string: user)).element)
            logger.info("user logged in", metadata: ["user": "\(user)"])
            await watchContacts(of: user)
        } catch {
            loginStates[user] = .failed(error.text)
            send(Presence(type: .unavailable, from: domainJID, to: JID(string: user), status: "Cannot log in: \(error.text)").element)
            logger.notice("login failed: \(error.text)", metadata: ["user": "\(user)"])
        }
    }

    func logOut(_ user: String) async {
        guard loginStates.removeValue(forKey: user) != nil else { return }
        await bridge.logOut(user: user)
        forgetRooms(of: user)
        // Contacts the network showed online are gone with the session.
        for (address, availability) in contactAvailability.removeValue(forKey: user) ?? [:] {
            if case .unavailable = availability { continue }
            send(Presence(type: .unavailable, from: contactJID(address), to: JID(string: user)).element)
        }
        logger.info("user logged out", metadata: ["user": "\(user)"])
    }
}
