import Foundation
import ArgumentParser
import CausewayDaemon
import GatewayCore
import Logging

/// `causeway`: the XMPP gateway daemon and its tools.
@main
struct Causeway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "causeway",
        abstract: "An XMPP gateway to IRC, e-mail and SMS, run as XEP-0114 components.",
        version: "\(CausewayVersion.name) \(CausewayVersion.version)",
        subcommands: [Run.self, CheckConfig.self],
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
            try await Daemon(configuration: configuration, logger: Logger(label: "causeway")).run()
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

func printToStandardError(_ text: String) {
    var standardError = StandardErrorStream()
    print(text, to: &standardError)
}

struct StandardErrorStream: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
