import Foundation
import ComponentLink
import GatewayCore
import Logging
import TOMLKit
import XMPPCore

/// Reads `causeway.toml` and every `bridges/<name>/bridge.toml`, checking each value, and
/// reports every problem with file and line.
public enum ConfigurationLoader {
    public static func load(path: String) throws(ConfigurationError) -> DaemonConfiguration {
        var problems: [ConfigurationProblem] = []
        let report: (ConfigurationProblem) -> Void = { problems.append($0) }
        let file = absolute(path, relativeTo: FileManager.default.currentDirectoryPath)

        guard let (table, locator) = parse(file: file, report: report) else {
            throw ConfigurationError(problems: problems)
        }
        let root = TOMLTableReader(file: file, table: table, path: [], locator: locator, report: report)
        var server = DaemonConfiguration.Server(domain: "")
        var link = DaemonConfiguration.LinkSettings()
        var logLevel = Logger.Level.info
        var grace: Duration = .seconds(10)
        var directory = "bridges"
        var databasePath = "causeway.sqlite"
        var vaultKey: CredentialVault.KeySource?
        var http = DaemonConfiguration.HTTPSettings()
        var allowedDomains: [String]?
        var admins: [String] = []
        var history = RoomArchive.Policy()
        let configDirectory = (file as NSString).deletingLastPathComponent

        root.table("xmpp", what: "the XMPP server the bridges connect to") { xmpp in
            if let domain = xmpp.string("server_domain", required: true, what: "the XMPP server's own domain, e.g. \"example.org\"") {
                if isValidDomain(domain) { server.domain = domain.lowercased() } else {
                    xmpp.problem("server_domain", "'server_domain' must be a domain name like \"example.org\", not \"\(domain)\"")
                }
            }
            if let host = xmpp.string("host", what: "address of the server's component listener") { server.host = host }
            if let port = xmpp.int("component_port", in: 1...65535, what: "the server's XEP-0114 component port") {
                server.componentPort = port
            }
        }
        root.table("bridges", what: "where bridge instances are") { bridges in
            if let value = bridges.string("directory", what: "folder of bridge folders, relative to this file") { directory = value }
        }
        root.table("link", what: "component link behaviour") { section in
            if let value = section.int("queue_limit", in: 1...10_000_000, what: "stanzas kept while a link is down") { link.queueLimit = value }
            if let value = section.seconds("whitespace_keepalive_seconds", in: 1...3600, what: "interval of whitespace keepalives") { link.whitespaceInterval = value }
            if let value = section.seconds("ping_interval_seconds", in: 1...3600, what: "interval of XEP-0199 pings to the server") { link.pingInterval = value }
            if let value = section.seconds("handshake_timeout_seconds", in: 1...600, what: "how long to wait for the handshake") { link.handshakeTimeout = value }
            if let value = section.seconds("reconnect_initial_seconds", in: 0.01...600, what: "first reconnection delay") { link.reconnectInitialDelay = value }
            if let value = section.seconds("reconnect_max_seconds", in: 0.01...3600, what: "longest reconnection delay") { link.reconnectMaximumDelay = value }
        }
        root.table("history", what: "room history (IRC channels): archive, MAM and history on join") { section in
            if let value = section.bool("enabled", what: "keep room history at all") { history.enabled = value }
            if let value = section.int("on_join", in: 0...1000, what: "messages replayed when joining a room") { history.onJoin = value }
            if let value = section.int("max_messages_per_room", in: 1...10_000_000, what: "newest messages kept per user and room") { history.maxMessagesPerRoom = value }
            if let value = section.int("max_age_days", in: 1...3650, what: "oldest messages kept, in days") { history.maxAge = .seconds(value * 86400) }
        }
        root.table("limits", what: "what the XMPP server may send") { limits in
            if let value = limits.int("max_stanza_bytes", in: 1024...(64 * 1024 * 1024), what: "largest stanza accepted") { link.parserLimits.maxStanzaBytes = value }
            if let value = limits.int("max_depth", in: 4...1024, what: "deepest element nesting accepted in a stanza") { link.parserLimits.maxDepth = value }
        }
        root.table("log", what: "logging") { log in
            let levels = Logger.Level.allCases.map(\.rawValue)
            if let value = log.choice("level", from: levels, what: "the least severe level logged") {
                logLevel = Logger.Level(rawValue: value) ?? .info
            }
        }
        root.table("store", what: "where registrations and undelivered messages are kept") { store in
            if let value = store.string("path", what: "the SQLite database file, relative to this file") {
                databasePath = value
            }
        }
        root.table("vault", what: "the key that seals credentials at rest") { vault in
            let file = vault.string("key_file", what: "a file holding the vault key (make one with `causeway generate-key`)")
            let environment = vault.string("key_env", what: "an environment variable holding the vault key")
            switch (file, environment) {
            case (let file?, nil): vaultKey = .file(absolute(file, relativeTo: configDirectory))
            case (nil, let variable?): vaultKey = .environment(variable)
            case (.some, .some): vault.problem("key_env", "give either 'key_file' or 'key_env', not both")
            case (nil, nil): vault.problem(nil, "missing [vault] key_file or key_env: credentials must be sealed with a key; make one with `causeway generate-key --output FILE`")
            }
        }
        root.table("http", what: "the HTTP listener for webhooks") { section in
            if let value = section.string("host", what: "address to listen on") { http.host = value }
            if let value = section.int("port", in: 1...65535, what: "port to listen on") { http.port = value }
            if let value = section.string("public_url", what: "how carriers reach this listener, e.g. https://gateway.example.org") { http.publicURL = value }
        }
        root.table("registration", what: "who may register") { section in
            if let value = section.stringArray("allowed_domains", what: "domains whose users may register") {
                allowedDomains = value.map { $0.lowercased() }
            }
        }
        root.table("admins", what: "who administers the bridges") { section in
            if let value = section.stringArray("jids", what: "bare JIDs of admins") {
                for jid in value where (try? JID(jid))?.isBare != true || !jid.contains("@") {
                    section.problem("jids", "'\(jid)' is not a bare JID like admin@example.org")
                }
                admins = value.map { $0.lowercased() }
            }
        }
        root.table("shutdown", what: "graceful shutdown") { shutdown in
            if let value = shutdown.seconds("grace_seconds", in: 0...600, what: "how long shutdown may take before work is cancelled") { grace = value }
        }
        root.finish()

        let bridgesDirectory = absolute(directory, relativeTo: configDirectory)
        var configuration = DaemonConfiguration(
            file: file, server: server,
            databasePath: absolute(databasePath, relativeTo: configDirectory),
            vaultKey: vaultKey ?? .environment("CAUSEWAY_VAULT_KEY"),
            http: http,
            policy: GatewayPolicy(allowedDomains: Set(allowedDomains ?? [server.domain]), admins: Set(admins), history: history),
            link: link, logLevel: logLevel,
            shutdownGracePeriod: grace, bridgesDirectory: bridgesDirectory
        )
        configuration.bridges = loadBridges(
            directory: bridgesDirectory,
            reportMissing: { root.problem("bridges", $0) },
            report: report
        )
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
        return configuration
    }

    static func loadBridges(
        directory: String, reportMissing: (String) -> Void, report: @escaping (ConfigurationProblem) -> Void
    ) -> [BridgeConfiguration] {
        let fileManager = FileManager.default
        guard let names = try? fileManager.contentsOfDirectory(atPath: directory) else {
            reportMissing("the bridges directory \(directory) does not exist or cannot be read; set [bridges] directory")
            return []
        }
        var bridges: [BridgeConfiguration] = []
        var domains: [String: String] = [:]
        var folderCount = 0
        for name in names.sorted() where !name.hasPrefix(".") {
            var isDirectory: ObjCBool = false
            let folder = directory + "/" + name
            guard fileManager.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            folderCount += 1
            let file = folder + "/bridge.toml"
            guard fileManager.fileExists(atPath: file) else {
                report(ConfigurationProblem(file: folder, line: nil, message: "bridge folder '\(name)' has no bridge.toml; add one or remove the folder"))
                continue
            }
            guard let bridge = loadBridge(name: name, file: file, report: report) else { continue }
            if let other = domains[bridge.domain] {
                let locator = (try? String(contentsOfFile: file, encoding: .utf8)).map(TOMLLineLocator.init(text:))
                report(ConfigurationProblem(
                    file: file, line: locator?.line(of: ["domain"]),
                    message: "domain '\(bridge.domain)' is already used by bridge '\(other)'; each bridge needs its own component domain"
                ))
                continue
            }
            domains[bridge.domain] = name
            bridges.append(bridge)
        }
        if folderCount == 0 {
            reportMissing("no bridge is configured in \(directory): add a folder with a bridge.toml")
        }
        return bridges
    }

    static func loadBridge(name: String, file: String, report: @escaping (ConfigurationProblem) -> Void) -> BridgeConfiguration? {
        var problemCount = 0
        let counting: (ConfigurationProblem) -> Void = { problemCount += 1; report($0) }
        guard let (table, locator) = parse(file: file, report: counting) else { return nil }
        let reader = TOMLTableReader(file: file, table: table, path: [], locator: locator, report: counting)
        let kindNames = BridgeKinds.all.map(\.kind.name)
        var definition: BridgeKindDefinition?
        if let kindName = reader.string("kind", required: true, what: "the kind of network: \(kindNames.joined(separator: ", "))") {
            definition = BridgeKinds.definition(named: kindName)
            if definition == nil {
                reader.problem("kind", "unknown bridge kind \"\(kindName)\"; this build knows \(kindNames.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
        }
        let settings = definition?.readSettings(reader, (file as NSString).deletingLastPathComponent)
        var domain: String?
        if let value = reader.string("domain", required: true, what: "the component domain, e.g. \"irc.example.org\"") {
            if isValidDomain(value) { domain = value.lowercased() } else {
                reader.problem("domain", "'domain' must be a domain name like \"irc.example.org\", not \"\(value)\"")
            }
        }
        var secret = reader.string("secret", what: "the component secret shared with the XMPP server")
        if let secretFile = reader.string("secret_file", what: "a file holding the component secret") {
            let path = absolute(secretFile, relativeTo: (file as NSString).deletingLastPathComponent)
            if secret != nil {
                reader.problem("secret_file", "give either 'secret' or 'secret_file', not both")
            } else if let contents = try? String(contentsOfFile: path, encoding: .utf8) {
                secret = contents.trimmed(" \t\r\n")
            } else {
                reader.problem("secret_file", "cannot read the secret file \(path)")
            }
        } else if secret == nil {
            reader.problem(nil, "missing 'secret' (or 'secret_file'): the component secret shared with the XMPP server")
        }
        if secret?.isEmpty == true {
            reader.problem("secret", "the component secret must not be empty")
        }
        let displayName = reader.string("name", what: "the gateway's name shown to users")
        reader.finish()
        guard problemCount == 0, let definition, let settings, let domain, let secret else { return nil }
        let kind = definition.kind
        return BridgeConfiguration(
            name: name, file: file, kind: kind, settings: settings, domain: domain, secret: secret,
            displayName: displayName ?? "Causeway \(kind.name) gateway"
        )
    }

    private static func parse(file: String, report: (ConfigurationProblem) -> Void) -> (TOMLTable, TOMLLineLocator)? {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            report(ConfigurationProblem(file: file, line: nil, message: "cannot read the file: \(error.localizedDescription)"))
            return nil
        }
        do {
            return (try TOMLTable(string: text), TOMLLineLocator(text: text))
        } catch let error as TOMLParseError {
            report(ConfigurationProblem(file: file, line: error.source.begin.line, message: "TOML syntax error: \(error.description)"))
        } catch {
            report(ConfigurationProblem(file: file, line: nil, message: "TOML syntax error: \(error)"))
        }
        return nil
    }

    static func isValidDomain(_ value: String) -> Bool {
        guard !value.contains("@"), !value.contains("/"), let jid = try? JID(value) else { return false }
        return jid.localpart == nil && jid.resourcepart == nil
    }

    static func absolute(_ path: String, relativeTo directory: String) -> String {
        let joined = path.hasPrefix("/") ? path : directory + "/" + path
        return (joined as NSString).standardizingPath
    }
}
