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

/// The bridge kinds this build of the daemon knows.
public enum BridgeKindRegistry {
    /// A bridge that only answers the core queries (disco, version, ping): it checks a server's
    /// component setup before a real network is bridged.
    public static let core = BridgeKind(
        name: "core", gatewayType: "xmpp",
        summary: "answers disco, version and ping only; for checking the XMPP server's component setup"
    )

    public static let all: [BridgeKind] = [core]

    public static func kind(named name: String) -> BridgeKind? {
        all.first { $0.name == name }
    }
}
