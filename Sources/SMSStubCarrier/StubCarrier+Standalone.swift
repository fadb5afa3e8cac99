import AsyncHTTPClient
import Logging
import ServiceLifecycle
import UnixSignals

extension StubCarrier {
    /// Runs a stub carrier on its own until SIGINT or SIGTERM, with an HTTP client of its own
    /// for the webhooks: what a command such as `causeway sms-stub` calls.
    ///
    /// - Throws: ``StubCarrierError`` for an invalid configuration, or the server's error
    ///   (for example when the port is taken).
    public static func runUntilSignalled(configuration: StubCarrierConfiguration, logger: Logger) async throws {
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        let stub = StubCarrier(configuration: configuration, httpClient: httpClient, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [stub], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }
}
