import AsyncHTTPClient
import ComponentLink
import GatewayCore
import IRCBridge
import Logging
import NIOPosix
import ServiceLifecycle

/// The running gateway: one component link and one bridge service per configured bridge, the
/// HTTP listener for webhooks, all in a `ServiceGroup` that shuts down gracefully on SIGTERM
/// and SIGINT.
public struct Daemon: Sendable {
    public let configuration: DaemonConfiguration
    private let logger: Logger

    public init(configuration: DaemonConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Opens the vault and the store; these fail before anything connects, with a message that
    /// says what to fix.
    public func openStore() throws -> GatewayStore {
        let vault = try CredentialVault.load(configuration.vaultKey)
        return try GatewayStore(path: configuration.databasePath, vault: vault)
    }

    public func run() async throws {
        let store = try openStore()
        let group = MultiThreadedEventLoopGroup.singleton
        let httpClient = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: .init(timeout: .init(connect: .seconds(10), read: .seconds(30))))
        // IRC sessions run on a couple of select() loop threads, never one thread per connection.
        let ircLoops = IRCLoopGroup(threads: 2)
        defer { ircLoops.shutdown() }
        do {
            try await run(store: store, group: group, httpClient: httpClient, ircLoops: ircLoops)
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }

    private func run(store: GatewayStore, group: MultiThreadedEventLoopGroup, httpClient: HTTPClient, ircLoops: IRCLoopGroup) async throws {

        var links: [ServiceGroupConfiguration.ServiceConfiguration] = []
        var bridgeServices: [ServiceGroupConfiguration.ServiceConfiguration] = []
        var bridgesByName: [String: any Bridge] = [:]
        for configuration in configuration.bridges {
            var bridgeLogger = logger
            bridgeLogger[metadataKey: "bridge"] = .string(configuration.name)
            let link = ComponentLink(
                configuration: self.configuration.linkConfiguration(for: configuration), group: group, logger: bridgeLogger
            )
            bridgeLogger[metadataKey: "domain"] = .string(configuration.domain)
            // The gateway and its bridge run on the link's event loop (see ActorExecutor).
            let executor = ActorExecutor(EventLoopSerialExecutor(link.eventLoop))
            let bridge = BridgeKinds.make(configuration, httpClient: httpClient, ircLoops: ircLoops, executor: executor, logger: bridgeLogger)
            bridgesByName[configuration.name] = bridge
            let gateway = Gateway(
                bridge: bridge, store: store, sender: LinkStanzaSender(link: link),
                policy: self.configuration.policy, logger: bridgeLogger, executor: executor
            )
            links.append(.init(service: link))
            bridgeServices.append(.init(service: BridgeService(bridge: configuration, link: link, gateway: gateway, logger: bridgeLogger)))
        }
        var httpLogger = logger
        httpLogger[metadataKey: "listener"] = .string("http")
        let http = WebhookServer.application(settings: configuration.http, bridges: bridgesByName, logger: httpLogger)

        // Services stop in reverse order: bridges first (their last words still go out), then
        // the HTTP listener, links last.
        var groupConfiguration = ServiceGroupConfiguration(
            services: links + [.init(service: http)] + bridgeServices,
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownGracePeriod
        groupConfiguration.maximumCancellationDuration = .seconds(2)
        logger.info("causeway starting", metadata: [
            "version": "\(CausewayVersion.version)",
            "bridges": "\(configuration.bridges.map(\.domain).joined(separator: ","))",
            "http": "\(configuration.http.host):\(configuration.http.port)",
        ])
        try await ServiceGroup(configuration: groupConfiguration).run()
        logger.info("causeway stopped")
    }
}
