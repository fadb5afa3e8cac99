import AsyncHTTPClient
import GatewayCore
import IRCBridge
import Logging
import SMSBridge

/// A bridge kind as the daemon knows it: how to read its settings from `bridge.toml` and how to
/// make an instance.
struct BridgeKindDefinition: Sendable {
    let kind: BridgeKind
    /// Reads the kind's own keys; problems go to the reader. Gets the bridge's folder for
    /// relative paths.
    let readSettings: @Sendable (TOMLTableReader, String) -> BridgeSettings?
}

/// The bridge kinds this build of the daemon knows.
enum BridgeKinds {
    static let core = BridgeKindDefinition(kind: CoreOnlyBridge.kind) { _, _ in .core }

    static let sms = BridgeKindDefinition(kind: SMSBridge.kind) { reader, folder in
        var settings: SMSBridgeSettings?
        reader.table("carrier", what: "the SMS carrier's HTTP API") { carrier in
            let url = carrier.string("api_url", required: true, what: "the carrier API's base URL, e.g. \"https://api.carrier.example\"")
            var secret = carrier.string("webhook_secret", what: "the key the carrier signs webhooks with")
            if let file = carrier.string("webhook_secret_file", what: "a file holding the webhook key") {
                if secret != nil {
                    carrier.problem("webhook_secret_file", "give either 'webhook_secret' or 'webhook_secret_file', not both")
                } else if let text = try? String(contentsOfFile: ConfigurationLoader.absolute(file, relativeTo: folder), encoding: .utf8) {
                    secret = text.trimmed(" \t\r\n")
                } else {
                    carrier.problem("webhook_secret_file", "cannot read the webhook secret file \(file)")
                }
            } else if secret == nil {
                carrier.problem(nil, "missing 'webhook_secret' (or 'webhook_secret_file') in [carrier]: webhooks must be signed")
            }
            let country = carrier.string("default_country_code", what: "calling code for numbers typed without one, e.g. \"1\"")
            if let country, !(1...3).contains(country.count) || !country.allSatisfy(\.isASCII) || !country.allSatisfy(\.isNumber) {
                carrier.problem("default_country_code", "'default_country_code' must be 1 to 3 digits, like \"1\" or \"44\", not \"\(country)\"")
            }
            let segments = carrier.int("max_segments", in: 1...50, what: "the longest text sent, in SMS segments")
            let timeout = carrier.seconds("request_timeout_seconds", in: 0.1...120, what: "how long one API request may take")
            let attempts = carrier.int("attempts", in: 1...20, what: "tries per API request on 5xx and timeouts")
            guard let url, let secret else { return }
            var value = SMSBridgeSettings(apiURL: url, webhookSecret: secret)
            value.defaultCountryCode = country
            if let segments { value.maxSegments = segments }
            if let timeout { value.requestTimeout = timeout }
            if let attempts { value.attempts = attempts }
            settings = value
        }
        return settings.map(BridgeSettings.sms)
    }

    static let irc = BridgeKindDefinition(kind: IRCBridge.kind) { reader, folder in
        var settings = IRCBridgeSettings()
        reader.table("irc", what: "IRC networks") { irc in
            if let server = irc.string("fixed_server", what: "the one network this bridge serves; its JIDs then drop the %server part") {
                if (try? IRCAddress.validateServer(server)) == nil {
                    irc.problem("fixed_server", "'fixed_server' must be a host name or address like \"irc.libera.chat\", not \"\(server)\"")
                } else {
                    settings.fixedServer = server.lowercased()
                }
            }
            if let tls = irc.bool("tls", what: "reach IRC servers over TLS") {
                settings.tls = tls
                settings.defaultPort = tls ? 6697 : 6667
            }
            if let verify = irc.bool("verify_certificates", what: "check servers' TLS certificates; turn off only for a server you trust otherwise") {
                settings.verifyCertificates = verify
            }
            if let roots = irc.string("trust_roots", what: "a PEM file of certificate authorities to trust instead of the system's") {
                settings.trustRoots = ConfigurationLoader.absolute(roots, relativeTo: folder)
            }
            if let port = irc.int("port", in: 1...65535, what: "the IRC servers' port") { settings.defaultPort = UInt16(port) }
            if let throttle = irc.choice("throttle", from: ["public", "off"], what: "outgoing flood protection: 5 lines, then 1 per 2 s; or none") {
                settings.throttle = throttle == "off" ? .unlimited : .publicNetwork
            }
            if let length = irc.int("max_nick_length", in: 9...64, what: "the longest nick accepted at registration") { settings.maxNickLength = length }
            if let allow = irc.bool("allow_raw_commands", what: "let users send raw IRC commands to a server's JID") { settings.allowRawCommands = allow }
            if let allow = irc.bool("allow_unverified_tls", what: "let users turn certificate verification off in their own server settings") {
                settings.allowUnverifiedTLS = allow
            }
            if let poll = irc.seconds("presence_poll", in: 1...3600, what: "how often contacts' presence is polled with ISON where a server has no MONITOR") {
                settings.presencePollInterval = poll
            }
            if let connects = irc.int("simultaneous_connects", in: 1...1000, what: "new connections to one server under way at once; the rest wait their turn") {
                settings.simultaneousConnects = connects
            }
            irc.table("servers", what: "servers by the name JIDs use: aliases and per-server settings") { servers in
                servers.eachTable(what: "one server: address, ports, tls, verify_certificates") { name, server in
                    if (try? IRCAddress.validateServer(name)) == nil {
                        server.problem(nil, "the server name '\(name)' must look like a host name (letters, digits, dots, dashes)")
                    }
                    var entry = IRCServerSettings()
                    if let address = server.string("address", what: "the host to connect to for this name") {
                        if (try? IRCAddress.validateServer(address)) == nil {
                            server.problem("address", "'address' must be a host name or address, not \"\(address)\"")
                        }
                        entry.address = address
                    }
                    entry.ports = server.intArray("ports", in: 1...65535, what: "ports to try in order")?.map { UInt16($0) }
                    entry.tls = server.bool("tls", what: "reach this server over TLS")
                    entry.verifyCertificates = server.bool("verify_certificates", what: "check this server's certificate")
                    settings.servers[name.lowercased()] = entry
                }
            }
        }
        return .irc(settings)
    }

    static let all = [core, sms, irc]

    static func definition(named name: String) -> BridgeKindDefinition? {
        all.first { $0.kind.name == name }
    }

    /// Makes the bridge a configuration describes.
    static func make(
        _ configuration: BridgeConfiguration, httpClient: HTTPClient, ircLoops: IRCLoopGroup, executor: ActorExecutor, logger: Logger
    ) -> any Bridge {
        switch configuration.settings {
        case .core:
            return CoreOnlyBridge(identity: configuration.identity)
        case .sms(let settings):
            return SMSBridge(identity: configuration.identity, settings: settings, httpClient: httpClient, logger: logger)
        case .irc(let settings):
            return IRCBridge(identity: configuration.identity, settings: settings, loops: ircLoops, executor: executor)
        }
    }
}
