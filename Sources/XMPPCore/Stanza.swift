/// The three stanza kinds of RFC 6120.
public enum StanzaKind: String, Sendable {
    case message, presence, iq
}

/// Typed access to the addressing attributes every stanza shares.
public protocol StanzaView: Sendable {
    var element: XMLElement { get set }
}

extension StanzaView {
    public var from: JID? {
        get { element[attribute: "from"].flatMap { try? JID($0) } }
        set { element[attribute: "from"] = newValue?.description }
    }

    public var to: JID? {
        get { element[attribute: "to"].flatMap { try? JID($0) } }
        set { element[attribute: "to"] = newValue?.description }
    }

    public var id: String? {
        get { element[attribute: "id"] }
        set { element[attribute: "id"] = newValue }
    }

    /// The raw `type` attribute.
    public var typeAttribute: String? { element[attribute: "type"] }

    /// Whether this stanza reports an error; such a stanza is never answered with another error.
    public var isError: Bool { typeAttribute == "error" }

    /// The error this stanza carries, when it is of type `error`.
    public var error: StanzaError? {
        element.child("error").flatMap { StanzaError(element: $0) }
    }
}

/// An `<iq/>`: a request (`get`, `set`) or its answer (`result`, `error`).
public struct IQ: StanzaView {
    public enum Kind: String, Sendable {
        case get, set, result, error
    }

    public var element: XMLElement

    /// Views an element as an IQ; nil when it is not one or its type is missing or unknown.
    public init?(_ element: XMLElement) {
        guard element.name == StanzaKind.iq.rawValue, let type = element[attribute: "type"], Kind(rawValue: type) != nil else {
            return nil
        }
        self.element = element
    }

    public init(type: Kind, from: JID?, to: JID?, id: String, payload: XMLElement? = nil) {
        element = XMLElement("iq", namespace: Namespace.component, [
            "type": type.rawValue, "id": id, "from": from?.description, "to": to?.description,
        ])
        if let payload { element.append(payload) }
    }

    public var type: Kind { Kind(rawValue: element[attribute: "type"] ?? "") ?? .error }

    public var isRequest: Bool { type == .get || type == .set }

    /// The request's one child element: what is asked.
    public var payload: XMLElement? { element.elements.first { $0.name != "error" } }

    /// The `result` answer to this request, addressed back to its sender.
    public func result(_ payload: XMLElement? = nil) -> IQ {
        var reply = IQ(type: .result, from: nil, to: nil, id: id ?? "", payload: payload)
        reply.element[attribute: "from"] = element[attribute: "to"]
        reply.element[attribute: "to"] = element[attribute: "from"]
        return reply
    }

    /// The `error` answer to this request; nil if this IQ is itself an error or a result.
    public func errorReply(_ error: StanzaError) -> XMLElement? {
        guard isRequest else { return nil }
        return StanzaError.reply(to: element, with: error)
    }
}

/// A `<message/>`.
public struct Message: StanzaView {
    public enum Kind: String, Sendable {
        case chat, error, groupchat, headline, normal
    }

    public var element: XMLElement

    public init?(_ element: XMLElement) {
        guard element.name == StanzaKind.message.rawValue else { return nil }
        self.element = element
    }

    public init(type: Kind = .chat, from: JID?, to: JID?, id: String? = nil, body: String? = nil) {
        // Built whole, children included: appending the body afterwards copied the children array.
        element = XMLElement("message", namespace: Namespace.component, [
            "type": type.rawValue, "id": id, "from": from?.description, "to": to?.description,
        ], children: body.map { [.element(.text("body", $0))] } ?? [])
    }

    /// The type; RFC 6121 says a missing or unknown type means `normal`.
    public var type: Kind { element[attribute: "type"].flatMap(Kind.init(rawValue:)) ?? .normal }

    public var body: String? { element.childText("body") }
}

/// A `<presence/>`.
public struct Presence: StanzaView {
    public enum Kind: String, Sendable {
        case available, unavailable, subscribe, subscribed, unsubscribe, unsubscribed, probe, error
    }

    public enum Show: String, Sendable {
        case away, chat, dnd, xa
    }

    public var element: XMLElement

    public init?(_ element: XMLElement) {
        guard element.name == StanzaKind.presence.rawValue else { return nil }
        self.element = element
    }

    public init(type: Kind = .available, from: JID?, to: JID?, show: Show? = nil, status: String? = nil) {
        element = XMLElement("presence", namespace: Namespace.component, [
            "type": type == .available ? nil : type.rawValue, "from": from?.description, "to": to?.description,
        ])
        if let show { element.append(.text("show", show.rawValue)) }
        if let status { element.append(.text("status", status)) }
    }

    /// The type; no `type` attribute means available.
    public var type: Kind {
        guard let type = element[attribute: "type"] else { return .available }
        return Kind(rawValue: type) ?? .error
    }

    public var show: Show? { element.childText("show").flatMap(Show.init(rawValue:)) }
    public var status: String? { element.childText("status") }
}
