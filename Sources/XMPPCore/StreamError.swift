/// An RFC 6120 stream error (§4.9): the `<stream:error/>` element sent just before a stream is
/// closed. Stream errors are unrecoverable; the stream ends after one.
public struct StreamError: Error, Sendable, Hashable {
    /// The defined condition (RFC 6120 §4.9.3).
    public var condition: Condition
    /// Human-readable text, written with `xml:lang='en'`.
    public var text: String?
    /// For ``Condition/seeOtherHost`` only: the host (and optional port) to reconnect to,
    /// carried as the condition element's text. Ignored for other conditions.
    public var otherHost: String?

    /// Makes a stream error.
    public init(_ condition: Condition, text: String? = nil, otherHost: String? = nil) {
        self.condition = condition
        self.text = text
        self.otherHost = otherHost
    }

    /// The defined stream error conditions of RFC 6120 §4.9.3, by their element names.
    public enum Condition: String, Sendable, CaseIterable {
        case badFormat = "bad-format"
        case badNamespacePrefix = "bad-namespace-prefix"
        case conflict = "conflict"
        case connectionTimeout = "connection-timeout"
        case hostGone = "host-gone"
        case hostUnknown = "host-unknown"
        case improperAddressing = "improper-addressing"
        case internalServerError = "internal-server-error"
        case invalidFrom = "invalid-from"
        case invalidNamespace = "invalid-namespace"
        case invalidXML = "invalid-xml"
        case notAuthorized = "not-authorized"
        case notWellFormed = "not-well-formed"
        case policyViolation = "policy-violation"
        case remoteConnectionFailed = "remote-connection-failed"
        case reset = "reset"
        case resourceConstraint = "resource-constraint"
        case restrictedXML = "restricted-xml"
        case seeOtherHost = "see-other-host"
        case systemShutdown = "system-shutdown"
        case undefinedCondition = "undefined-condition"
        case unsupportedEncoding = "unsupported-encoding"
        case unsupportedFeature = "unsupported-feature"
        case unsupportedStanzaType = "unsupported-stanza-type"
        case unsupportedVersion = "unsupported-version"
    }

    /// The `<stream:error/>` element: `error` in the streams namespace (the serializer writes the
    /// `stream:` prefix), holding the condition and the optional text in the stream-errors
    /// namespace.
    public var element: XMLElement {
        var error = XMLElement("error", namespace: Namespace.streams)
        var conditionElement = XMLElement(condition.rawValue, namespace: Namespace.streamErrors)
        if condition == .seeOtherHost, let otherHost, !otherHost.isEmpty {
            conditionElement.append(text: otherHost)
        }
        error.append(conditionElement)
        if let text {
            error.append(
                XMLElement(
                    "text", namespace: Namespace.streamErrors,
                    attributes: [XMLAttribute("xml:lang", "en")], children: [.text(text)]))
        }
        return error
    }

    /// Reads a `<stream:error/>` element. Returns nil unless the element is `error` in the
    /// streams namespace; an unknown or missing condition becomes
    /// ``Condition/undefinedCondition``. Application-specific children are ignored.
    public init?(element: XMLElement) {
        guard element.name == "error", element.namespace == Namespace.streams else { return nil }
        var condition: Condition?
        var otherHost: String?
        var text: String?
        for child in element.elements where child.namespace == Namespace.streamErrors {
            if child.name == "text" {
                if text == nil { text = child.text }
            } else if condition == nil {
                let defined = Condition(rawValue: child.name) ?? .undefinedCondition
                condition = defined
                if defined == .seeOtherHost {
                    let host = Self.trimmed(child.text)
                    otherHost = host.isEmpty ? nil : host
                }
            }
        }
        self.init(condition ?? .undefinedCondition, text: text, otherHost: otherHost)
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

extension StreamError: CustomStringConvertible {
    /// `condition: text`, for logs.
    public var description: String {
        if let text { return condition.rawValue + ": " + text }
        return condition.rawValue
    }
}
