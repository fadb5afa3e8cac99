import Foundation
import ArgumentParser
import CausewayDaemon
import GatewayCore
import SMSStubCarrier
import Logging

/// Sets up the process before any other thread runs, then hands over to the command line.
@main
enum Entry {
    static func main() async {
        MallocArenas.limit()
        await Causeway.main()
    }
}

/// `causeway`: the XMPP gateway daemon and its tools.
struct Causeway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "causeway",
        abstract: "An XMPP gateway to IRC, e-mail and SMS, run as XEP-0114 components.",
        version: "\(CausewayVersion.name) \(CausewayVersion.version)",
        subcommands: [Run.self, CheckConfig.self, GenerateKey.self, SMSStub.self],
        defaultSubcommand: Run.self
    )
}

struct ConfigOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "The daemon's configuration file.")
    var config: String = "config/causeway.toml"
}

extension Causeway {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the gateway until SIGTERM or SIGINT.")

        @OptionGroup var options: ConfigOption

        func run() async throws {
            let configuration: DaemonConfiguration
            do {
                configuration = try ConfigurationLoader.load(path: options.config)
            } catch {
                printToStandardError(error.description)
                printToStandardError("causeway: not started; fix the configuration (see `causeway check-config`).")
                throw ExitCode(2)
            }
            let level = configuration.logLevel
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            let daemon = Daemon(configuration: configuration, logger: Logger(label: "causeway"))
            do {
                _ = try daemon.openStore()
            } catch {
                printToStandardError("causeway: not started: \(error)")
                throw ExitCode(2)
            }
            try await daemon.run()
        }
    }

    struct CheckConfig: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-config",
            abstract: "Validate the configuration and every bridge folder; print each problem with file and line."
        )

        @OptionGroup var options: ConfigOption

        func run() async throws {
            do {
                let configuration = try ConfigurationLoader.load(path: options.config)
                print("\(configuration.file): OK")
                for bridge in configuration.bridges {
                    print("  \(bridge.name): \(bridge.kind.name) bridge on \(bridge.domain) (\(bridge.file))")
                }
            } catch {
                printToStandardError(error.description)
                let count = error.problems.count
                printToStandardError("\(count) problem\(count == 1 ? "" : "s") found.")
                throw ExitCode(1)
            }
        }
    }
}

extension Causeway {
    struct GenerateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate-key",
            abstract: "Make a new credential vault key (32 random bytes as hex)."
        )

        @Option(name: .shortAndLong, help: "Write the key to this file (mode 0600) instead of printing it.")
        var output: String?

        func run() async throws {
            let key = CredentialVault.generateKeyText()
            guard let output else {
                print(key)
                return
            }
            guard !FileManager.default.fileExists(atPath: output) else {
                printToStandardError("causeway: \(output) exists; a new key would make stored credentials unreadable. Remove it first if you mean it.")
                throw ExitCode(1)
            }
            guard FileManager.default.createFile(atPath: output, contents: Data((key + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                printToStandardError("causeway: cannot write \(output)")
                throw ExitCode(1)
            }
            print("wrote a new vault key to \(output)")
        }
    }
}

extension Causeway {
    struct SMSStub: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sms-stub",
            abstract: "Run a development SMS carrier over real HTTP (see docs/sms-carrier-api.md)."
        )

        @Option(help: "Address to listen on.")
        var host = "127.0.0.1"

        @Option(help: "Port to listen on.")
        var port = 8490

        @Option(help: "The key webhooks are signed with; the SMS bridge's [carrier] webhook_secret.")
        var webhookSecret: String

        @Option(help: "An account: ID:TOKEN:NUMBER[,NUMBER...][:WEBHOOK_BASE_URL]. Repeatable.")
        var account: [String] = []

        @Option(help: "Log level.")
        var logLevel = "info"

        func run() async throws {
            var accounts: [String: StubAccount] = [:]
            for argument in account {
                switch StubAccount.parse(argument: argument) {
                case .success(let parsed): accounts[parsed.id] = parsed.account
                case .failure(let error):
                    printToStandardError("causeway sms-stub: --account: \(error)")
                    throw ExitCode(2)
                }
            }
            let level = Logger.Level(rawValue: logLevel) ?? .info
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            let configuration = StubCarrierConfiguration(host: host, port: port, webhookSecret: webhookSecret, accounts: accounts)
            try await StubCarrier.runUntilSignalled(configuration: configuration, logger: Logger(label: "causeway.sms-stub"))
        }
    }
}

func printToStandardError(_ text: String) {
    var standardError = StandardErrorStream()
    print(text, to: &standardError)
}

struct StandardErrorStream: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
