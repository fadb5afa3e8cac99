/// A kind of bridge the daemon can run: `bridge.toml`'s `kind` names one of these.
public struct BridgeKind: Sendable, Hashable {
    /// The name in `bridge.toml`.
    public var name: String
    /// The XEP-0030 gateway identity type its instances show.
    public var gatewayType: String
    /// A line for `causeway check-config` and the docs.
    public var summary: String

    public init(name: String, gatewayType: String, summary: String) {
        self.name = name
        self.gatewayType = gatewayType
        self.summary = summary
    }
}
