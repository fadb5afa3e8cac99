/// An RFC 6120 stanza error (§8.3): the `<error/>` child of a message, presence or IQ of
/// type `error`.
///
/// Built with a defined condition and, unless given, the error type RFC 6120 uses for that
/// condition; ``element`` writes it out and ``init(element:)`` reads one back. Use
/// ``reply(to:with:)`` to answer a stanza with an error.
public struct StanzaError: Error, Sendable, Hashable {
    /// The defined condition (RFC 6120 §8.3.3).
    public var condition: Condition
    /// The error type, telling the sender whether and how to retry (RFC 6120 §8.3.2).
    public var type: ErrorType
    /// Human-readable text, written with `xml:lang='en'`. Not for display as the only
    /// explanation: the condition is what software acts on.
    public var text: String?
    /// The entity that generated the error (the `by` attribute), when not the recipient.
    public var by: String?
    /// For ``Condition/gone`` and ``Condition/redirect`` only: the new address (usually an
    /// `xmpp:` URI), carried as the condition element's text. Ignored for other conditions.
    public var alternateAddress: String?
    /// An application-specific condition element (RFC 6120 §8.3.4), written after the defined
    /// condition and the text; for example XEP-0050's `<bad-sessionid/>`. Its namespace must not
    /// be the stanza-errors namespace.
    public var applicationCondition: XMLElement?

    /// Makes an error. `type` defaults to the condition's ``Condition/defaultType``.
    public init(
        _ condition: Condition,
        type: ErrorType? = nil,
        text: String? = nil,
        by: String? = nil,
        alternateAddress: String? = nil,
        applicationCondition: XMLElement? = nil
    ) {
        self.condition = condition
        self.type = type ?? condition.defaultType
        self.text = text
        self.by = by
        self.alternateAddress = alternateAddress
        self.applicationCondition = applicationCondition
    }

    /// The defined stanza error conditions of RFC 6120 §8.3.3, by their element names.
    public enum Condition: String, Sendable, CaseIterable {
        case badRequest = "bad-request"
        case conflict = "conflict"
        case featureNotImplemented = "feature-not-implemented"
        case forbidden = "forbidden"
        case gone = "gone"
        case internalServerError = "internal-server-error"
        case itemNotFound = "item-not-found"
        case jidMalformed = "jid-malformed"
        case notAcceptable = "not-acceptable"
        case notAllowed = "not-allowed"
        case notAuthorized = "not-authorized"
        case policyViolation = "policy-violation"
        case recipientUnavailable = "recipient-unavailable"
        case redirect = "redirect"
        case registrationRequired = "registration-required"
        case remoteServerNotFound = "remote-server-not-found"
        case remoteServerTimeout = "remote-server-timeout"
        case resourceConstraint = "resource-constraint"
        case serviceUnavailable = "service-unavailable"
        case subscriptionRequired = "subscription-required"
        case undefinedCondition = "undefined-condition"
        case unexpectedRequest = "unexpected-request"

        /// The error type RFC 6120 §8.3.3 uses with this condition in its examples; used when an
        /// error is made without an explicit type. For `undefined-condition`, for which RFC 6120
        /// allows any type, this is `cancel`.
        public var defaultType: ErrorType {
            switch self {
            case .badRequest, .jidMalformed, .notAcceptable, .policyViolation, .redirect:
                .modify
            case .forbidden, .notAuthorized, .registrationRequired, .subscriptionRequired:
                .auth
            case .recipientUnavailable, .remoteServerTimeout, .resourceConstraint, .unexpectedRequest:
                .wait
            case .conflict, .featureNotImplemented, .gone, .internalServerError, .itemNotFound,
                .notAllowed, .remoteServerNotFound, .serviceUnavailable, .undefinedCondition:
                .cancel
            }
        }

        /// Whether the condition element may carry an alternate address as its text.
        public var carriesAlternateAddress: Bool {
            self == .gone || self == .redirect
        }
    }

    /// The stanza error types of RFC 6120 §8.3.2.
    public enum ErrorType: String, Sendable, CaseIterable {
        /// Retry after providing credentials.
        case auth
        /// Do not retry: the error cannot be remedied.
        case cancel
        /// Proceed: the condition was only a warning.
        case `continue`
        /// Retry after changing the data sent.
        case modify
        /// Retry after waiting: the error is temporary.
        case wait
    }

    /// The `<error/>` element in the namespace of the stanza it goes into (here
    /// `jabber:component:accept`, so no `xmlns` is written inside a component stanza).
    public var element: XMLElement {
        element(namespace: Namespace.component)
    }

    /// The `<error/>` element, in `namespace` (that of the enclosing stanza).
    public func element(namespace: String?) -> XMLElement {
        var error = XMLElement("error", namespace: namespace, ["type": type.rawValue, "by": by])
        var conditionElement = XMLElement(condition.rawValue, namespace: Namespace.stanzaErrors)
        if condition.carriesAlternateAddress, let alternateAddress, !alternateAddress.isEmpty {
            conditionElement.append(text: alternateAddress)
        }
        error.append(conditionElement)
        if let text {
            error.append(
                XMLElement(
                    "text", namespace: Namespace.stanzaErrors,
                    attributes: [XMLAttribute("xml:lang", "en")], children: [.text(text)]))
        }
        if let applicationCondition {
            error.append(applicationCondition)
        }
        return error
    }

    /// Reads an `<error/>` element, whatever the stanza namespace it is in. Returns nil when the
    /// element is not named `error` or is a stream error. Lenient with peers: an unknown or
    /// missing condition becomes ``Condition/undefinedCondition``, and an unknown or missing
    /// type becomes the condition's default.
    public init?(element: XMLElement) {
        guard element.name == "error", element.namespace != Namespace.streams else { return nil }
        var condition: Condition?
        var alternateAddress: String?
        var text: String?
        var applicationCondition: XMLElement?
        for child in element.elements {
            if child.namespace == Namespace.stanzaErrors {
                if child.name == "text" {
                    if text == nil { text = child.text }
                } else if condition == nil {
                    let defined = Condition(rawValue: child.name) ?? .undefinedCondition
                    condition = defined
                    if defined.carriesAlternateAddress {
                        let address = Self.trimmed(child.text)
                        alternateAddress = address.isEmpty ? nil : address
                    }
                }
            } else if applicationCondition == nil {
                applicationCondition = child
            }
        }
        let resolved = condition ?? .undefinedCondition
        self.init(
            resolved,
            type: element[attribute: "type"].flatMap(ErrorType.init(rawValue:)),
            text: text,
            by: element[attribute: "by"],
            alternateAddress: alternateAddress,
            applicationCondition: applicationCondition)
    }

    /// The error carried by a stanza of type `error`: its `<error/>` child (in the stanza's
    /// namespace, or in none), read with ``init(element:)``. Nil when there is no such child.
    public init?(stanza: XMLElement) {
        guard
            let error = stanza.elements.first(where: {
                $0.name == "error" && ($0.namespace == stanza.namespace || $0.namespace == nil)
            })
        else { return nil }
        self.init(element: error)
    }

    /// The error reply to `stanza` (RFC 6120 §8.3.1): the same element name and namespace,
    /// `type='error'`, `from` and `to` swapped, the same `id`, and the error element. For an IQ
    /// the original payload is included before the error; for messages and presences it is not.
    ///
    /// Returns nil when the stanza must not be answered with an error: when it is itself of
    /// type `error`, or when it is an IQ of type `result` (RFC 6120 §8.2.3).
    public static func reply(to stanza: XMLElement, with error: StanzaError) -> XMLElement? {
        let type = stanza[attribute: "type"]
        if type == "error" { return nil }
        if stanza.name == "iq", type == "result" { return nil }
        var reply = XMLElement(
            stanza.name, namespace: stanza.namespace,
            [
                "from": stanza[attribute: "to"],
                "to": stanza[attribute: "from"],
                "type": "error",
                "id": stanza[attribute: "id"],
            ])
        if stanza.name == "iq" {
            for payload in stanza.elements where payload.name != "error" {
                reply.append(payload)
            }
        }
        reply.append(error.element(namespace: stanza.namespace))
        return reply
    }

    /// The text with leading and trailing XML whitespace removed.
    private static func trimmed(_ text: String) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let first = text.firstIndex(where: { !isSpace($0) }),
            let last = text.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(text[first...last])
    }
}

extension StanzaError: CustomStringConvertible {
    /// `condition (type): text`, for logs.
    public var description: String {
        var result = "\(condition.rawValue) (\(type.rawValue))"
        if let text { result += ": " + text }
        return result
    }
}
