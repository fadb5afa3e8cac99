import XMPPCore

/// XEP-0050 ad-hoc commands on the bridge domain: registration for users; users, sessions and
/// announcements for admins.
enum GatewayCommand: String, CaseIterable, Sendable {
    case registration
    case unregister
    case listUsers = "list-users"
    case listSessions = "list-sessions"
    case announce

    var name: String {
        switch self {
        case .registration: "Show or change registration"
        case .unregister: "Unregister"
        case .listUsers: "List registered users"
        case .listSessions: "List online sessions"
        case .announce: "Send an announcement to all users"
        }
    }

    var forAdminsOnly: Bool { self == .listUsers || self == .listSessions || self == .announce }
}

extension Gateway {
    func isAdmin(_ jid: JID?) -> Bool {
        guard let jid else { return false }
        return policy.admins.contains(jid.bare.description)
    }

    func commands(for jid: JID?) -> [GatewayCommand] {
        GatewayCommand.allCases.filter { !$0.forAdminsOnly || isAdmin(jid) }
    }

    func commandList(for jid: JID?) -> XMLElement {
        var query = XMLElement("query", namespace: Namespace.discoItems, ["node": Namespace.commands])
        for command in commands(for: jid) {
            query.append(XMLElement("item", ["jid": domain, "node": command.rawValue, "name": command.name]))
        }
        return query
    }

    func handleCommand(_ iq: IQ, _ payload: XMLElement) async {
        guard iq.type == .set, let node = payload[attribute: "node"], let command = GatewayCommand(rawValue: node) else {
            reply(iq, error: StanzaError(.itemNotFound, text: "No such command"))
            return
        }
        guard commands(for: iq.from).contains(command), let user = allowedUser(iq.from) else {
            reply(iq, error: StanzaError(.forbidden, text: "This command is for the gateway's admins"))
            return
        }
        let action = payload[attribute: "action"] ?? "execute"
        let session = payload[attribute: "sessionid"] ?? makeID()
        if action == "cancel" {
            reply(iq, commandResponse(node, session, status: "canceled"))
            return
        }
        let submitted = payload.child("x", namespace: Namespace.dataForms).flatMap { try? DataForm(element: $0) }
        let submission = submitted?.type == .submit ? submitted : nil

        switch command {
        case .registration:
            let current = await registration(of: user)
            guard let submission else {
                var form = registrationForm.dataForm(current: current.map(record))
                form.instructions = [current == nil ? registrationForm.instructions : "Change what you need; leave secrets empty to keep them."]
                reply(iq, commandResponse(node, session, status: "executing", form: form, actions: ["complete"]))
                return
            }
            var values: [String: String] = [:]
            for field in registrationForm.fields {
                if let value = submission.value(of: field.name)?.trimmedWhitespace, !value.isEmpty { values[field.name] = value }
            }
            if let error = await register(user, values: values, current: current) {
                reply(iq, error: error)
            } else {
                reply(iq, commandResponse(node, session, status: "completed", note: "Registration saved."))
            }

        case .unregister:
            guard let submission else {
                let form = DataForm(type: .form, title: "Unregister", instructions: ["Remove your registration and everything the gateway stores for you?"], fields: [
                    DataForm.Field(variable: "confirm", type: .boolean, label: "Yes, unregister", isRequired: true, values: ["false"]),
                ])
                reply(iq, commandResponse(node, session, status: "executing", form: form, actions: ["complete"]))
                return
            }
            guard submission.boolean(of: "confirm") == true else {
                reply(iq, commandResponse(node, session, status: "completed", note: "Nothing was changed."))
                return
            }
            guard await registration(of: user) != nil else {
                reply(iq, error: StanzaError(.itemNotFound, text: "\(user) is not registered with \(domain)"))
                return
            }
            await unregister(user)
            reply(iq, commandResponse(node, session, status: "completed", note: "You are unregistered."))

        case .listUsers:
            let registrations = (try? await store.registrations(bridge: domain)) ?? []
            let form = DataForm(
                type: .result, title: "\(registrations.count) registered users",
                reported: [DataForm.Field(variable: "jid", type: .jidSingle, label: "User"), DataForm.Field(variable: "legacy", label: "Account")],
                items: registrations.map { [DataForm.Field(variable: "jid", values: [$0.user]), DataForm.Field(variable: "legacy", values: [$0.legacyID ?? ""])] }
            )
            reply(iq, commandResponse(node, session, status: "completed", form: form))

        case .listSessions:
            let users = Set(sessions.keys).union(loginStates.keys).sorted()
            let form = DataForm(
                type: .result, title: "\(users.count) users online",
                reported: [
                    DataForm.Field(variable: "jid", type: .jidSingle, label: "User"),
                    DataForm.Field(variable: "resources", label: "XMPP resources"),
                    DataForm.Field(variable: "login", label: "Network login"),
                ],
                items: users.map { user in
                    [
                        DataForm.Field(variable: "jid", values: [user]),
                        DataForm.Field(variable: "resources", values: ["\(sessions[user]?.count ?? 0)"]),
                        DataForm.Field(variable: "login", values: [describe(loginStates[user])]),
                    ]
                }
            )
            reply(iq, commandResponse(node, session, status: "completed", form: form))

        case .announce:
            guard let submission, let text = submission.values(of: "body").joined(separator: "\n").nonEmpty else {
                let form = DataForm(type: .form, title: "Announcement", instructions: ["Sent as a headline to every registered user."], fields: [
                    DataForm.Field(variable: "body", type: .textMulti, label: "Text", isRequired: true),
                ])
                reply(iq, commandResponse(node, session, status: "executing", form: form, actions: ["complete"]))
                return
            }
            let registrations = (try? await store.registrations(bridge: domain)) ?? []
            for registration in registrations {
                send(Message(type: .headline, from: domainJID, to: JID(string: registration.user), id: makeID(), body: text).element)
            }
            reply(iq, commandResponse(node, session, status: "completed", note: "Sent to \(registrations.count) users."))
        }
    }

    private func describe(_ state: LoginState?) -> String {
        switch state {
        case .online: "online"
        case .failed(let reason): "failed: \(reason)"
        case .offline, nil: "offline"
        }
    }

    func commandResponse(
        _ node: String, _ session: String, status: String,
        form: DataForm? = nil, actions: [String] = [], note: String? = nil
    ) -> XMLElement {
        var command = XMLElement("command", namespace: Namespace.commands, ["node": node, "sessionid": session, "status": status])
        if !actions.isEmpty {
            var element = XMLElement("actions", ["execute": actions.last])
            for action in actions { element.append(XMLElement(action)) }
            command.append(element)
        }
        if let note { command.append(XMLElement("note", ["type": "info"], children: [.text(note)])) }
        if let form { command.append(form.element) }
        return command
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
