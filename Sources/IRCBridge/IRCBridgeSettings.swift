/// What an admin sets for one IRC bridge instance (`bridge.toml`).
public struct IRCBridgeSettings: Sendable, Hashable {
    /// The one network this bridge serves, or `nil` for any server (`bob%irc.libera.chat`).
    /// On a fixed bridge contacts are just `bob` and `#swift`.
    public var fixedServer: String?
    /// The port every server is reached on (6667 plain, usually 6697 with TLS).
    public var defaultPort: UInt16
    /// Reach servers over TLS, through a relay the gateway owns (Debian's libircclient has none).
    public var tls = false
    /// Verify servers' certificates and names; off only where an admin says so.
    public var verifyCertificates = true
    /// A PEM file of roots to trust instead of the system's.
    public var trustRoots: String?
    /// The outgoing pace, per connection.
    public var throttle: TokenBucket
    /// Longest nick accepted at registration and in addresses.
    public var maxNickLength: Int
    /// Time allowed to connect and register with a server on first use.
    public var connectTimeout: Duration
    /// New connections to one server that may be under way at once (from the TCP connect to
    /// the server's first line); the rest wait their turn. See ``IRCConnectTurns``.
    public var simultaneousConnects = 8
    /// Servers by the name JIDs use: aliases and per-server defaults.
    public var servers: [String: IRCServerSettings] = [:]
    /// Whether users may send raw IRC commands to a server's JID.
    public var allowRawCommands = false
    /// Whether users may turn certificate verification off for a server in their own settings.
    public var allowUnverifiedTLS = false
    /// How often contacts' presence is polled with ISON where the server has no MONITOR.
    public var presencePollInterval: Duration = .seconds(60)
    /// How long a WHOIS may take before a vCard request gives up.
    public var whoisTimeout: Duration = .seconds(10)
    /// How long a LIST may take (big networks send tens of thousands of channels).
    public var listTimeout: Duration = .seconds(60)

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
