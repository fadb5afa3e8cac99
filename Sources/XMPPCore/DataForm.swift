/// An XEP-0004 data form: `<x xmlns='jabber:x:data'/>`, as used by registration, ad-hoc
/// commands, service discovery extensions and search.
///
/// ``element`` writes the form; ``init(element:)`` reads one and throws ``ParseError`` when it
/// is malformed. Child elements in other namespaces (XEP-0122 validation, XEP-0221 media) are
/// not kept.
public struct DataForm: Sendable, Hashable {
    /// What the form is for: a form to fill in, a submission, a cancellation or a result.
    public var type: FormType
    /// The form's title, if any.
    public var title: String?
    /// Natural-language instructions, one entry per `<instructions/>` element.
    public var instructions: [String]
    /// The fields, in order.
    public var fields: [Field]
    /// For multi-item `result` forms: the field definitions of the table's columns
    /// (`<reported/>`); nil when the form has none.
    public var reported: [Field]?
    /// For multi-item `result` forms: the rows, one field list per `<item/>`.
    public var items: [[Field]]

    /// Makes a form.
    public init(
        type: FormType,
        title: String? = nil,
        instructions: [String] = [],
        fields: [Field] = [],
        reported: [Field]? = nil,
        items: [[Field]] = []
    ) {
        self.type = type
        self.title = title
        self.instructions = instructions
        self.fields = fields
        self.reported = reported
        self.items = items
    }

    /// The form types of XEP-0004 §3.1.
    public enum FormType: String, Sendable, CaseIterable {
        /// The form-processing entity asks the form-submitting entity to fill in a form.
        case form
        /// The form-submitting entity submits data.
        case submit
        /// The form-submitting entity cancels the submission.
        case cancel
        /// The form-processing entity returns data (results, or a completed form).
        case result
    }

    /// The field types of XEP-0004 §3.3.
    public enum FieldType: String, Sendable, CaseIterable {
        case boolean
        case fixed
        case hidden
        case jidMulti = "jid-multi"
        case jidSingle = "jid-single"
        case listMulti = "list-multi"
        case listSingle = "list-single"
        case textMulti = "text-multi"
        case textPrivate = "text-private"
        case textSingle = "text-single"
    }

    /// One `<field/>` of a form, of a `<reported/>` header or of an `<item/>`.
    public struct Field: Sendable, Hashable {
        /// The field's name (`var`); nil only for `fixed` fields.
        public var variable: String?
        /// The field's type; nil when the `type` attribute is absent (as it usually is in
        /// submitted forms; in a `form`, XEP-0004 then means `text-single`).
        public var type: FieldType?
        /// The human-readable label.
        public var label: String?
        /// The natural-language description (`<desc/>`), for help text or tooltips.
        public var description: String?
        /// Whether the field must be filled in (`<required/>`).
        public var isRequired: Bool
        /// The values, in order; more than one only for the `-multi` types.
        public var values: [String]
        /// The choices of a `list-single` or `list-multi` field.
        public var options: [Option]

        /// Makes a field.
        public init(
            variable: String?,
            type: FieldType? = nil,
            label: String? = nil,
            description: String? = nil,
            isRequired: Bool = false,
            values: [String] = [],
            options: [Option] = []
        ) {
            self.variable = variable
            self.type = type
            self.label = label
            self.description = description
            self.isRequired = isRequired
            self.values = values
            self.options = options
        }

        /// One choice of a list field: the value submitted and an optional label shown for it.
        public struct Option: Sendable, Hashable {
            public var label: String?
            public var value: String

            public init(label: String? = nil, value: String) {
                self.label = label
                self.value = value
            }
        }

        /// The first value, if any.
        public var value: String? { values.first }

        /// The value read as an XEP-0004 boolean: `1`/`true` or `0`/`false`. A `boolean` field
        /// with no value is `false` (XEP-0004's default); nil for any other value, or for a
        /// field of another type with no value.
        public var boolean: Bool? {
            guard let value = values.first else { return type == .boolean ? false : nil }
            return DataForm.parseBoolean(value)
        }

        /// The hidden `FORM_TYPE` field (XEP-0068) naming the form's namespace.
        public static func formType(_ namespace: String) -> Field {
            Field(variable: DataForm.formTypeVariable, type: .hidden, values: [namespace])
        }

        /// The `<field/>` element.
        public var element: XMLElement {
            var field = XMLElement(
                "field", namespace: Namespace.dataForms,
                ["type": type?.rawValue, "label": label, "var": variable])
            if let description {
                field.append(.text("desc", namespace: Namespace.dataForms, description))
            }
            if isRequired {
                field.append(XMLElement("required", namespace: Namespace.dataForms))
            }
            for value in values {
                field.append(.text("value", namespace: Namespace.dataForms, value))
            }
            for option in options {
                field.append(
                    XMLElement(
                        "option", namespace: Namespace.dataForms, ["label": option.label],
                        children: [.element(.text("value", namespace: Namespace.dataForms, option.value))]))
            }
            return field
        }

        /// Reads a `<field/>` element. Throws for an unknown field type, a non-`fixed` field
        /// without `var`, or an option without a value.
        public init(element: XMLElement) throws(ParseError) {
            guard element.name == "field", element.namespace == Namespace.dataForms else {
                throw ParseError("expected <field/> in \(Namespace.dataForms), got <\(element.name)/>")
            }
            var type: FieldType?
            if let rawType = element[attribute: "type"] {
                guard let known = FieldType(rawValue: rawType) else {
                    throw ParseError("unknown field type '\(rawType)'")
                }
                type = known
            }
            let variable = element[attribute: "var"]
            if variable == nil, type != .fixed {
                throw ParseError("field of type '\(type?.rawValue ?? "text-single")' has no var")
            }
            var field = Field(variable: variable, type: type, label: element[attribute: "label"])
            for child in element.elements where child.namespace == Namespace.dataForms {
                switch child.name {
                case "desc":
                    if field.description == nil { field.description = child.text }
                case "required":
                    field.isRequired = true
                case "value":
                    field.values.append(child.text)
                case "option":
                    guard let value = child.childText("value", namespace: Namespace.dataForms) else {
                        throw ParseError("option of field '\(variable ?? "")' has no value")
                    }
                    field.options.append(Option(label: child[attribute: "label"], value: value))
                default:
                    break
                }
            }
            self = field
        }
    }

    /// Why a data form could not be read.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What is wrong, for logs and for the text of a `bad-request` reply.
        public var text: String

        public init(_ text: String) {
            self.text = text
        }

        public var description: String { text }
    }

    /// The name of the field holding the form's namespace (XEP-0068).
    public static let formTypeVariable = "FORM_TYPE"

    /// A form whose first field is the hidden `FORM_TYPE` field (XEP-0068) with this value.
    public static func withFormType(
        _ formType: String,
        type: FormType = .form,
        title: String? = nil,
        instructions: [String] = [],
        fields: [Field] = []
    ) -> DataForm {
        DataForm(
            type: type, title: title, instructions: instructions,
            fields: [.formType(formType)] + fields)
    }

    /// The form's namespace: the value of its `FORM_TYPE` field (XEP-0068). The field counts
    /// when it is `hidden`, or has no type in a form that is not a `form` or `result` (a
    /// submission usually leaves the type out).
    public var formType: String? {
        fields.first {
            $0.variable == Self.formTypeVariable
                && ($0.type == .hidden || ($0.type == nil && type != .form && type != .result))
        }?.value
    }

    /// The first top-level field with this `var`.
    public subscript(variable variable: String) -> Field? {
        fields.first { $0.variable == variable }
    }

    /// The first value of the field with this `var`.
    public func value(of variable: String) -> String? {
        self[variable: variable]?.value
    }

    /// All values of the field with this `var`; empty when there is no such field.
    public func values(of variable: String) -> [String] {
        self[variable: variable]?.values ?? []
    }

    /// The field with this `var` read as a boolean (see ``Field/boolean``); nil when there is
    /// no such field or its value is not a boolean.
    public func boolean(of variable: String) -> Bool? {
        self[variable: variable]?.boolean
    }

    /// Reads an XEP-0004 (XML Schema) boolean: `1` or `true`, `0` or `false`, with surrounding
    /// whitespace ignored. Nil for anything else.
    public static func parseBoolean(_ value: String) -> Bool? {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let first = value.firstIndex(where: { !isSpace($0) }),
            let last = value.lastIndex(where: { !isSpace($0) })
        else { return nil }
        switch value[first...last] {
        case "1", "true": return true
        case "0", "false": return false
        default: return nil
        }
    }

    /// The `<x xmlns='jabber:x:data'/>` element: title, instructions, fields, then the
    /// reported header and the items.
    public var element: XMLElement {
        var form = XMLElement("x", namespace: Namespace.dataForms, ["type": type.rawValue])
        if let title {
            form.append(.text("title", namespace: Namespace.dataForms, title))
        }
        for line in instructions {
            form.append(.text("instructions", namespace: Namespace.dataForms, line))
        }
        for field in fields {
            form.append(field.element)
        }
        if let reported {
            form.append(
                XMLElement("reported", namespace: Namespace.dataForms, children: reported.map { .element($0.element) }))
        }
        for item in items {
            form.append(XMLElement("item", namespace: Namespace.dataForms, children: item.map { .element($0.element) }))
        }
        return form
    }

    /// Reads an `<x xmlns='jabber:x:data'/>` element. Throws when it is not one, when its type
    /// is missing or unknown, when it has more than one `<reported/>`, or when a field is bad
    /// (see ``Field/init(element:)``).
    public init(element: XMLElement) throws(ParseError) {
        guard element.name == "x", element.namespace == Namespace.dataForms else {
            throw ParseError("expected <x/> in \(Namespace.dataForms), got <\(element.name)/>")
        }
        guard let rawType = element[attribute: "type"] else {
            throw ParseError("data form has no type")
        }
        guard let type = FormType(rawValue: rawType) else {
            throw ParseError("unknown data form type '\(rawType)'")
        }
        var form = DataForm(type: type)
        for child in element.elements where child.namespace == Namespace.dataForms {
            switch child.name {
            case "title":
                if form.title == nil { form.title = child.text }
            case "instructions":
                form.instructions.append(child.text)
            case "field":
                form.fields.append(try Field(element: child))
            case "reported":
                guard form.reported == nil else { throw ParseError("data form has more than one <reported/>") }
                form.reported = try Self.fields(in: child)
            case "item":
                form.items.append(try Self.fields(in: child))
            default:
                break
            }
        }
        self = form
    }

    /// The `<field/>` children of a `<reported/>` or `<item/>` element.
    private static func fields(in element: XMLElement) throws(ParseError) -> [Field] {
        var fields: [Field] = []
        for child in element.elements where child.name == "field" && child.namespace == Namespace.dataForms {
            fields.append(try Field(element: child))
        }
        return fields
    }
}
