/// How a bridge instance presents itself on its domain: the XEP-0030 identity and features.
public struct BridgeIdentity: Sendable, Hashable {
    /// The component domain, e.g. `irc.example.org`.
    public var domain: String
    /// A name for people, shown by clients' service browsers.
    public var name: String
    /// The XEP-0030 gateway identity type: `irc`, `sms`, `smtp`, `xmpp`…
    public var gatewayType: String
    /// Features beyond the ones every bridge has.
    public var extraFeatures: [String]

    public init(domain: String, name: String, gatewayType: String, extraFeatures: [String] = []) {
        self.domain = domain
        self.name = name
        self.gatewayType = gatewayType
        self.extraFeatures = extraFeatures
    }
}
