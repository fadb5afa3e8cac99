import ComponentLink
import GatewayCore
import Logging
import NIOPosix
import ServiceLifecycle

/// The running gateway: one component link and one bridge service per configured bridge,
/// in a `ServiceGroup` that shuts down gracefully on SIGTERM and SIGINT.
public struct Daemon: Sendable {
    public let configuration: DaemonConfiguration
    private let logger: Logger

    public init(configuration: DaemonConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        var bridgeServices: [ServiceGroupConfiguration.ServiceConfiguration] = []
        for bridge in configuration.bridges {
            var bridgeLogger = logger
            bridgeLogger[metadataKey: "bridge"] = .string(bridge.name)
            let link = ComponentLink(
                configuration: configuration.linkConfiguration(for: bridge), group: group, logger: bridgeLogger
            )
            bridgeLogger[metadataKey: "domain"] = .string(bridge.domain)
            services.append(.init(service: link))
            bridgeServices.append(.init(service: BridgeService(bridge: bridge, link: link, logger: bridgeLogger)))
        }
        // Services stop in reverse order: bridges first (their last words still go out), links after.
        var groupConfiguration = ServiceGroupConfiguration(
            services: services + bridgeServices,
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownGracePeriod
        groupConfiguration.maximumCancellationDuration = .seconds(2)
        logger.info("causeway starting", metadata: [
            "version": "\(CausewayVersion.version)",
            "bridges": "\(configuration.bridges.map(\.domain).joined(separator: ","))",
        ])
        try await ServiceGroup(configuration: groupConfiguration).run()
        logger.info("causeway stopped")
    }
}
