import XMPPCore

/// Everything one XEP-0114 link needs to know.
public struct ComponentLinkConfiguration: Sendable, Hashable {
    /// The component's domain, e.g. `irc.example.org`.
    public var domain: String
    /// The secret shared with the XMPP server for this component.
    public var secret: String
    /// Where the server listens for components.
    public var host: String
    public var port: Int
    /// The server's own domain: keepalive pings go there.
    public var serverDomain: String

    /// Stanzas kept while the link is down, at most.
    public var queueLimit: Int = 10_000
    public var connectTimeout: Duration = .seconds(10)
    public var handshakeTimeout: Duration = .seconds(10)
    /// Quiet time after which a single space is sent.
    public var whitespaceInterval: Duration = .seconds(60)
    /// How often the server is pinged; two unanswered intervals end the link.
    public var pingInterval: Duration = .seconds(60)
    /// How long to wait for the server's `</stream:stream>` after ours.
    public var closeTimeout: Duration = .seconds(3)
    public var reconnectInitialDelay: Duration = .milliseconds(500)
    public var reconnectMaximumDelay: Duration = .seconds(30)
    public var parserLimits: XMLStreamParser.Limits = .init()

    public init(domain: String, secret: String, host: String, port: Int, serverDomain: String) {
        self.domain = domain
        self.secret = secret
        self.host = host
        self.port = port
        self.serverDomain = serverDomain
    }
}

extension ComponentLinkConfiguration: CustomStringConvertible {
    /// Everything but the secret, which must never reach a log.
    public var description: String {
        "ComponentLinkConfiguration(domain: \(domain), server: \(host):\(port), serverDomain: \(serverDomain), secret: <redacted>)"
    }
}
