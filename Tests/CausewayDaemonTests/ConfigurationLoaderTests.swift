import Foundation
import XCTest
@testable import CausewayDaemon
import IRCBridge

final class ConfigurationLoaderTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "causeway-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/bridges", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func write(_ relativePath: String, _ text: String) throws {
        let path = directory + "/" + relativePath
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    private let goodDaemon = """
        [xmpp]
        server_domain = "Example.ORG"
        component_port = 5347

        [vault]
        key_env = "CAUSEWAY_TEST_VAULT_KEY"

        [link]
        reconnect_max_seconds = 2.5

        [log]
        level = "debug"
        """

    private func load() -> Result<DaemonConfiguration, ConfigurationError> {
        Result { () throws(ConfigurationError) in try ConfigurationLoader.load(path: directory + "/causeway.toml") }
    }

    private func problems() -> [String] {
        guard case .failure(let error) = load() else { XCTFail("expected problems"); return [] }
        return error.problems.map(\.description)
    }

    func testLoadsAGoodConfiguration() throws {
        try write("causeway.toml", goodDaemon)
        try write("bridges/one/bridge.toml", "kind = \"core\"\ndomain = \"GW1.example.org\"\nsecret = \"a\"\n")
        try write("bridges/two/bridge.toml", "kind = \"core\"\ndomain = \"gw2.example.org\"\nsecret_file = \"secret.txt\"\nname = \"Two\"\n")
        try write("bridges/two/secret.txt", "from-file\n")
        let configuration = try load().get()
        XCTAssertEqual(configuration.server.domain, "example.org")
        XCTAssertEqual(configuration.server.host, "127.0.0.1")
        XCTAssertEqual(configuration.link.reconnectMaximumDelay, .milliseconds(2500))
        XCTAssertEqual(configuration.logLevel, .debug)
        XCTAssertEqual(configuration.bridges.map(\.domain), ["gw1.example.org", "gw2.example.org"])
        XCTAssertEqual(configuration.bridges[1].secret, "from-file")
        XCTAssertEqual(configuration.bridges[1].displayName, "Two")
        let link = configuration.linkConfiguration(for: configuration.bridges[0])
        XCTAssertEqual(link.port, 5347)
        XCTAssertEqual(link.serverDomain, "example.org")
        XCTAssertEqual(configuration.policy.allowedDomains, ["example.org"], "registration defaults to the server's own domain")
        XCTAssertEqual(configuration.vaultKey, .environment("CAUSEWAY_TEST_VAULT_KEY"))
        XCTAssertEqual(configuration.databasePath, directory + "/causeway.sqlite")
    }

    func testSMSBridgeSettingsAndDaemonSections() throws {
        try write("causeway.toml", """
            [xmpp]
            server_domain = "example.org"
            [vault]
            key_file = "vault.key"
            [store]
            path = "data/gw.sqlite"
            [http]
            port = 9000
            [registration]
            allowed_domains = ["example.org", "Partner.example"]
            [admins]
            jids = ["boss@example.org"]
            """)
        try write("bridges/sms/bridge.toml", """
            kind = "sms"
            domain = "sms.example.org"
            secret = "s"
            [carrier]
            api_url = "http://127.0.0.1:8490"
            webhook_secret = "w"
            default_country_code = "44"
            max_segments = 3
            """)
        let configuration = try load().get()
        XCTAssertEqual(configuration.vaultKey, .file(directory + "/vault.key"))
        XCTAssertEqual(configuration.databasePath, directory + "/data/gw.sqlite")
        XCTAssertEqual(configuration.http.port, 9000)
        XCTAssertEqual(configuration.policy.allowedDomains, ["example.org", "partner.example"])
        XCTAssertEqual(configuration.policy.admins, ["boss@example.org"])
        guard case .sms(let settings) = configuration.bridges.first?.settings else { return XCTFail("no SMS settings") }
        XCTAssertEqual(settings.defaultCountryCode, "44")
        XCTAssertEqual(settings.maxSegments, 3)
        XCTAssertFalse("\(configuration.bridges[0])".contains("\"s\""), "no secret in descriptions")
        XCTAssertFalse("\(settings)".contains("w)"), "no webhook secret in descriptions")
    }

    func testSMSBridgeProblemsNameTheLine() throws {
        try write("causeway.toml", goodDaemon)
        try write("bridges/sms/bridge.toml", """
            kind = "sms"
            domain = "sms.example.org"
            secret = "s"

            [carrier]
            api_url = "http://127.0.0.1:8490"
            default_country_code = "one"
            """)
        let found = problems()
        let file = directory + "/bridges/sms/bridge.toml"
        XCTAssertTrue(found.contains { $0.hasPrefix("\(file):5: missing 'webhook_secret'") }, "\(found)")
        XCTAssertTrue(found.contains { $0.hasPrefix("\(file):7: 'default_country_code' must be 1 to 3 digits") }, "\(found)")
    }

    func testIRCServerAliasesAndTheirProblems() throws {
        try write("causeway.toml", goodDaemon)
        try write("bridges/irc/bridge.toml", """
            kind = "irc"
            domain = "irc.example.org"
            secret = "s"

            [irc]
            allow_raw_commands = true
            presence_poll = 5
            simultaneous_connects = 3

            [irc.servers.libera]
            address = "irc.libera.chat"
            ports = [6697, 7000]
            tls = true
            """)
        guard case .success(let configuration) = load(), case .irc(let settings) = configuration.bridges[0].settings else {
            return XCTFail("\(problems())")
        }
        XCTAssertEqual(settings.servers["libera"], IRCServerSettings(address: "irc.libera.chat", ports: [6697, 7000], tls: true))
        XCTAssertTrue(settings.allowRawCommands)
        XCTAssertEqual(settings.presencePollInterval, .seconds(5))
        XCTAssertEqual(settings.simultaneousConnects, 3)

        try write("bridges/irc/bridge.toml", """
            kind = "irc"
            domain = "irc.example.org"
            secret = "s"

            [irc]
            simultaneous_connects = 0

            [irc.servers.libera]
            address = "irc libera"
            ports = [0]
            tls = "yes"
            """)
        let found = problems()
        let file = directory + "/bridges/irc/bridge.toml"
        XCTAssertTrue(found.contains { $0.hasPrefix("\(file):6: 'simultaneous_connects' must be between 1 and 1000") }, "\(found)")
        XCTAssertTrue(found.contains { $0.hasPrefix("\(file):9: 'address' must be a host name") }, "\(found)")
        XCTAssertTrue(found.contains { $0.hasPrefix("\(file):10: 'ports' must hold integers between 1 and 65535") }, "\(found)")
        XCTAssertTrue(found.contains { $0.hasPrefix("\(file):11: 'tls' must be true or false") }, "\(found)")
    }

    func testVaultAndAdminMistakes() throws {
        try write("causeway.toml", """
            [xmpp]
            server_domain = "example.org"
            [vault]
            key_file = "a"
            key_env = "B"
            [admins]
            jids = ["not a jid"]
            """)
        try write("bridges/one/bridge.toml", "kind = \"core\"\ndomain = \"gw.example.org\"\nsecret = \"a\"\n")
        let found = problems()
        XCTAssertTrue(found.contains { $0.contains("causeway.toml:5: give either 'key_file' or 'key_env'") }, "\(found)")
        XCTAssertTrue(found.contains { $0.contains("causeway.toml:7: 'not a jid' is not a bare JID") }, "\(found)")
    }

    func testUnknownKeyNamesFileLineAndSuggestion() throws {
        try write("causeway.toml", goodDaemon)
        try write("bridges/one/bridge.toml", "kind = \"core\"\ndomain = \"gw.example.org\"\nsecret = \"a\"\n\nsecrte = \"b\"\n")
        let found = problems()
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found[0].hasPrefix(directory + "/bridges/one/bridge.toml:5: unknown key 'secrte'"), found[0])
        XCTAssertTrue(found[0].contains("did you mean 'secret'?"), found[0])
    }

    func testWrongTypesAndValuesNameTheLine() throws {
        try write("causeway.toml", """
            # comment
            [xmpp]
            server_domain = "example.org"
            component_port = "5347"

            [log]
            level = "loud"
            [link]
            queue_limit = 0
            """)
        try write("bridges/one/bridge.toml", "kind = \"telegraph\"\ndomain = \"bad domain\"\nsecret = \"\"\n")
        let found = problems()
        let file = directory + "/causeway.toml"
        let bridge = directory + "/bridges/one/bridge.toml"
        XCTAssertTrue(found.contains { $0.hasPrefix("\(file):4: 'component_port' must be an integer") }, "\(found)")
        XCTAssertTrue(found.contains { $0.hasPrefix("\(file):7: 'level' must be one of") }, "\(found)")
        XCTAssertTrue(found.contains { $0.hasPrefix("\(file):9: 'queue_limit' must be between") }, "\(found)")
        XCTAssertTrue(found.contains { $0.hasPrefix("\(bridge):1: unknown bridge kind \"telegraph\"") }, "\(found)")
        XCTAssertTrue(found.contains { $0.hasPrefix("\(bridge):2: 'domain' must be a domain name") }, "\(found)")
        XCTAssertTrue(found.contains { $0.hasPrefix("\(bridge):3: the component secret must not be empty") }, "\(found)")
    }

    func testSyntaxErrorsMissingKeysAndDuplicates() throws {
        try write("causeway.toml", "[xmpp\nserver_domain = 1\n")
        XCTAssertTrue(problems().first?.hasPrefix(directory + "/causeway.toml:1: TOML syntax error") == true, "\(problems())")

        try write("causeway.toml", "[xmpp]\nhost = \"127.0.0.1\"\n")
        try write("bridges/a/bridge.toml", "kind = \"core\"\ndomain = \"gw.example.org\"\nsecret = \"a\"\n")
        try write("bridges/b/bridge.toml", "kind = \"core\"\n\ndomain = \"gw.example.org\"\nsecret = \"b\"\n")
        try FileManager.default.createDirectory(atPath: directory + "/bridges/empty", withIntermediateDirectories: true)
        let found = problems()
        XCTAssertTrue(found.contains { $0.contains("causeway.toml:1: missing 'server_domain' in [xmpp]") }, "\(found)")
        XCTAssertTrue(found.contains { $0.contains("bridges/b/bridge.toml:3: domain 'gw.example.org' is already used by bridge 'a'") }, "\(found)")
        XCTAssertTrue(found.contains { $0.contains("bridges/empty:1: bridge folder 'empty' has no bridge.toml") }, "\(found)")
    }

    func testMissingBridgesDirectory() throws {
        try write("causeway.toml", "[xmpp]\nserver_domain = \"example.org\"\n[bridges]\ndirectory = \"nowhere\"\n[vault]\nkey_env = \"K\"\n")
        let found = problems()
        XCTAssertTrue(found.contains { $0.contains("causeway.toml:3: the bridges directory") && $0.contains("nowhere") }, "\(found)")
    }

    func testTheShippedConfigurationIsValid() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let configuration = try ConfigurationLoader.load(path: repository.path + "/config/causeway.toml")
        XCTAssertFalse(configuration.bridges.isEmpty)
    }
}

final class TOMLLineLocatorTests: XCTestCase {
    func testFindsKeysTablesDottedAndQuotedKeys() {
        let text = """
            top = 1
            # comment
            [server]
            host = "a # not a comment"
            "quoted.key" = 2
            nested.inner = 3
            multi = \"\"\"
            fake = 4
            \"\"\"
            list = [
              "x",
            ]
            after = 5
            [other.table]
            key = 6
            """
        let locator = TOMLLineLocator(text: text)
        XCTAssertEqual(locator.line(of: ["top"]), 1)
        XCTAssertEqual(locator.line(of: ["server"]), 3)
        XCTAssertEqual(locator.line(of: ["server", "host"]), 4)
        XCTAssertEqual(locator.line(of: ["server", "quoted.key"]), 5)
        XCTAssertEqual(locator.line(of: ["server", "nested", "inner"]), 6)
        XCTAssertNil(locator.line(of: ["server", "fake"]).flatMap { $0 == 8 ? $0 : nil })
        XCTAssertEqual(locator.line(of: ["server", "after"]), 13)
        XCTAssertEqual(locator.line(of: ["other", "table", "key"]), 15)
        // Unknown keys fall back to their table's header.
        XCTAssertEqual(locator.line(of: ["other", "table", "missing"]), 14)
    }
}
