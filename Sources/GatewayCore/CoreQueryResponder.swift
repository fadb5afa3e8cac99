import XMPPCore

/// Answers the queries every bridge domain answers: XEP-0030 disco#info and disco#items,
/// XEP-0092 version, XEP-0199 ping. Any other IQ request gets `service-unavailable`, so no request
/// ever goes unanswered; stanzas of type `error` and IQ results are never answered.
public struct CoreQueryResponder: Sendable {
    public let identity: BridgeIdentity

    /// Features every bridge domain has.
    public static let baseFeatures = [
        Namespace.discoInfo, Namespace.discoItems, Namespace.version, Namespace.ping, Namespace.jidEscaping,
    ]

    public init(identity: BridgeIdentity) {
        self.identity = identity
    }

    /// The features this bridge domain advertises, sorted as XEP-0115 hashing wants them.
    public var features: [String] {
        Array(Set(Self.baseFeatures + identity.extraFeatures)).sorted()
    }

    /// The answer to an IQ request, or nil for anything that must not be answered.
    public func answer(_ element: XMLElement) -> XMLElement? {
        guard let iq = IQ(element), iq.isRequest else { return nil }
        guard let payload = iq.payload else {
            return iq.errorReply(StanzaError(.badRequest, text: "The request has no payload"))
        }
        let toDomain = iq.to.map { $0.localpart == nil && $0.resourcepart == nil } ?? false
        switch (iq.type, payload.namespace, toDomain) {
        case (.get, Namespace.discoInfo, true) where payload[attribute: "node"] == nil:
            return iq.result(discoInfo()).element
        case (.get, Namespace.discoItems, true) where payload[attribute: "node"] == nil:
            return iq.result(XMLElement("query", namespace: Namespace.discoItems)).element
        case (.get, Namespace.version, true):
            return iq.result(version()).element
        case (.get, Namespace.ping, _):
            return iq.result().element
        default:
            return iq.errorReply(StanzaError(
                .serviceUnavailable, text: "\(identity.domain) does not handle \(payload.namespace ?? payload.name) \(iq.type.rawValue) requests"
            ))
        }
    }

    func discoInfo() -> XMLElement {
        var query = XMLElement("query", namespace: Namespace.discoInfo)
        query.append(XMLElement("identity", [
            "category": "gateway", "type": identity.gatewayType, "name": identity.name,
        ]))
        for feature in features {
            query.append(XMLElement("feature", ["var": feature]))
        }
        return query
    }

    func version() -> XMLElement {
        XMLElement("query", namespace: Namespace.version, children: [
            .element(.text("name", CausewayVersion.name)),
            .element(.text("version", CausewayVersion.version)),
        ])
    }
}
