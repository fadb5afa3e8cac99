/// What an admin sets for one IRC bridge instance (`bridge.toml`).
public struct IRCBridgeSettings: Sendable, Hashable {
    /// The one network this bridge serves, or `nil` for any server (`bob%irc.libera.chat`).
    /// On a fixed bridge contacts are just `bob` and `#swift`.
    public var fixedServer: String?
    /// The port every server is reached on. Plain-text IRC only in this step (6667); TLS
    /// through a gateway-owned relay comes later.
    public var defaultPort: UInt16
    /// The outgoing pace, per connection.
    public var throttle: TokenBucket
    /// Longest nick accepted at registration and in addresses.
    public var maxNickLength: Int
    /// Time allowed to connect and register with a server on first use.
    public var connectTimeout: Duration

    public init(
        fixedServer: String? = nil,
        defaultPort: UInt16 = 6667,
        throttle: TokenBucket = .publicNetwork,
        maxNickLength: Int = IRCAddress.defaultMaxNickLength,
        connectTimeout: Duration = .seconds(20)
    ) {
        self.fixedServer = fixedServer
        self.defaultPort = defaultPort
        self.throttle = throttle
        self.maxNickLength = maxNickLength
        self.connectTimeout = connectTimeout
    }
}
