import XMPPCore

/// XEP-0077 in-band registration as the gateway speaks it: the form it offers (legacy fields and
/// an x:data form with `FORM_TYPE` jabber:iq:register), `<registered/>` with current values, and
/// reading what a client submits — either way.
public struct RegistrationForm: Sendable {
    public let fields: [RegistrationField]
    public let instructions: String

    public init(fields: [RegistrationField], instructions: String) {
        self.fields = fields
        self.instructions = instructions
    }

    /// What a client asked for with an `<iq type='set'>` on jabber:iq:register.
    public enum Request: Sendable, Hashable {
        case register([String: String])
        case remove
    }

    /// The `<query/>` answering a get: empty fields for a new user, or `<registered/>` with the
    /// current values (secrets left empty) for a registered one.
    public func query(current: RegistrationRecord?) -> XMLElement {
        var query = XMLElement("query", namespace: Namespace.register)
        query.append(.text("instructions", instructions))
        if current != nil {
            query.append(XMLElement("registered"))
        }
        for field in fields {
            guard let legacy = field.legacyElement else { continue }
            let value = field.isSecret ? "" : current.flatMap { $0.fields[field.name] } ?? ""
            query.append(value.isEmpty ? XMLElement(legacy) : .text(legacy, value))
        }
        query.append(dataForm(current: current).element)
        return query
    }

    /// The x:data form, with current values where a registration exists.
    public func dataForm(current: RegistrationRecord?, type: DataForm.FormType = .form) -> DataForm {
        DataForm.withFormType(Namespace.register, type: type, title: "Registration", instructions: [instructions], fields: fields.map { field in
            let value = field.isSecret ? nil : current?.fields[field.name]
            return DataForm.Field(
                variable: field.name, type: Self.fieldType(field.kind), label: field.label,
                description: field.description, isRequired: field.isRequired,
                values: value.map { field.kind == .lines ? $0.split(separator: "\n").map(String.init) : [$0] } ?? [],
                options: Self.options(field.kind)
            )
        })
    }

    /// Reads a submitted `<query/>`: `<remove/>`, an x:data submission, or legacy fields.
    public func parse(_ query: XMLElement) -> Result<Request, RegistrationError> {
        if query.child("remove") != nil {
            return .success(.remove)
        }
        var values: [String: String] = [:]
        if let formElement = query.child("x", namespace: Namespace.dataForms) {
            let form: DataForm
            do {
                form = try DataForm(element: formElement)
            } catch {
                return .failure(RegistrationError(field: nil, "The registration form could not be read: \(error.text)", condition: .badRequest))
            }
            guard form.type == .submit else {
                return .failure(RegistrationError(field: nil, "Submit the registration form with type='submit'", condition: .badRequest))
            }
            for field in fields {
                if let value = form.value(of: field.name) { values[field.name] = value }
            }
        } else {
            for field in fields {
                if let legacy = field.legacyElement, let value = query.childText(legacy) {
                    values[field.name] = value
                }
            }
        }
        for field in fields {
            let value = values[field.name]?.trimmedWhitespace ?? ""
            if field.kind != .secret { values[field.name] = value.isEmpty ? nil : value }
            if field.isRequired && (values[field.name] ?? "").isEmpty {
                return .failure(RegistrationError(field: field.name, "\(field.label) is required"))
            }
            if case .boolean = field.kind, let raw = values[field.name] {
                guard let boolean = DataForm.parseBoolean(raw) else {
                    return .failure(RegistrationError(field: field.name, "\(field.label) must be true or false, not '\(raw)'"))
                }
                values[field.name] = boolean ? "true" : "false"
            }
            if case .choice(let choices) = field.kind, let raw = values[field.name], !choices.contains(raw) {
                return .failure(RegistrationError(field: field.name, "\(field.label) must be one of \(choices.joined(separator: ", "))"))
            }
        }
        return .success(.register(values))
    }

    static func fieldType(_ kind: RegistrationField.Kind) -> DataForm.FieldType {
        switch kind {
        case .text: .textSingle
        case .secret: .textPrivate
        case .boolean: .boolean
        case .choice: .listSingle
        case .lines: .textMulti
        }
    }

    static func options(_ kind: RegistrationField.Kind) -> [DataForm.Field.Option] {
        guard case .choice(let choices) = kind else { return [] }
        return choices.map { DataForm.Field.Option(label: $0, value: $0) }
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks.
    var trimmedWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
