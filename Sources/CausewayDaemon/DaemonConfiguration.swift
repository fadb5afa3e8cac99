import ComponentLink
import IRCBridge
import SMSBridge
import GatewayCore
import Logging
import XMPPCore

/// Everything `config/causeway.toml` and the bridge folders say, validated.
public struct DaemonConfiguration: Sendable {
    /// The XMPP server the component links go to.
    public struct Server: Sendable, Hashable {
        /// The server's own domain (pings go there), e.g. `example.org`.
        public var domain: String
        public var host = "127.0.0.1"
        public var componentPort = 5347
    }

    /// Timing and bounds shared by every component link.
    public struct LinkSettings: Sendable, Hashable {
        public var queueLimit = 10_000
        public var whitespaceInterval: Duration = .seconds(60)
        public var pingInterval: Duration = .seconds(60)
        public var handshakeTimeout: Duration = .seconds(10)
        public var reconnectInitialDelay: Duration = .milliseconds(500)
        public var reconnectMaximumDelay: Duration = .seconds(30)
        public var parserLimits = XMLStreamParser.Limits()
    }

    /// Where the HTTP listener for webhooks (and health) binds.
    public struct HTTPSettings: Sendable, Hashable {
        public var host = "127.0.0.1"
        public var port = 8480
        /// How carriers reach this listener, for the stub and the docs; defaults to host:port.
        public var publicURL: String?

        public var baseURL: String { publicURL ?? "http://\(host):\(port)" }
    }

    public var file: String
    public var server: Server
    /// The SQLite database: registrations, contacts, undelivered messages.
    public var databasePath: String
    /// Where the credential vault's key comes from.
    public var vaultKey: CredentialVault.KeySource
    public var http = HTTPSettings()
    /// Who may register, and who administers the bridges.
    public var policy: GatewayPolicy
    public var link = LinkSettings()
    public var logLevel: Logger.Level = .info
    public var shutdownGracePeriod: Duration = .seconds(10)
    public var bridgesDirectory: String
    public var bridges: [BridgeConfiguration] = []

    /// The component link settings for one bridge.
    public func linkConfiguration(for bridge: BridgeConfiguration) -> ComponentLinkConfiguration {
        var configuration = ComponentLinkConfiguration(
            domain: bridge.domain, secret: bridge.secret,
            host: server.host, port: server.componentPort, serverDomain: server.domain
        )
        configuration.queueLimit = link.queueLimit
        configuration.whitespaceInterval = link.whitespaceInterval
        configuration.pingInterval = link.pingInterval
        configuration.handshakeTimeout = link.handshakeTimeout
        configuration.reconnectInitialDelay = link.reconnectInitialDelay
        configuration.reconnectMaximumDelay = max(link.reconnectMaximumDelay, link.reconnectInitialDelay)
        configuration.parserLimits = link.parserLimits
        return configuration
    }
}

/// One bridge instance: a folder under the bridges directory with a `bridge.toml`.
public struct BridgeConfiguration: Sendable, Hashable {
    /// The folder's name.
    public var name: String
    /// The `bridge.toml` it came from.
    public var file: String
    public var kind: BridgeKind
    /// Settings of this bridge's kind: its own table(s) in bridge.toml.
    public var settings: BridgeSettings
    public var domain: String
    public var secret: String
    /// The name clients show for the gateway.
    public var displayName: String

    public var identity: BridgeIdentity {
        BridgeIdentity(domain: domain, name: displayName, gatewayType: kind.gatewayType)
    }
}

/// The kind-specific part of a bridge's configuration.
public enum BridgeSettings: Sendable, Hashable {
    case core
    case sms(SMSBridgeSettings)
    case irc(IRCBridgeSettings)
}

extension BridgeConfiguration: CustomStringConvertible {
    /// Everything but the secret, which must never reach a log.
    public var description: String {
        "BridgeConfiguration(name: \(name), kind: \(kind.name), domain: \(domain), file: \(file), secret: <redacted>)"
    }
}
