import AsyncHTTPClient
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SMSBridge

/// A real HTTP SMS carrier for development and tests: it serves the carrier API the SMS bridge
/// uses (see `CarrierAPI` in SMSBridge), posts signed webhooks to the gateway like a real
/// carrier, and adds a control API to add accounts, inject inbound SMS, inspect what was sent
/// and simulate failures (see ``StubControlAPI``). Nothing leaves the machine: sends are only
/// recorded.
///
/// It is a swift-service-lifecycle `Service`: run it in a `ServiceGroup` and stop it with a
/// graceful shutdown (or use ``runUntilSignalled(configuration:logger:)``). Cancelling the task
/// running ``run()`` stops it too, but a Hummingbird server cancelled while it accepts a
/// connection can trip a NIO precondition, so prefer graceful shutdown. Run each instance once.
///
/// ```swift
/// let stub = StubCarrier(configuration: .init(port: 8490, webhookSecret: "s3cret"), httpClient: client)
/// let group = ServiceGroup(configuration: .init(services: [stub], gracefulShutdownSignals: [.sigterm], logger: logger))
/// try await group.run()
/// ```
public struct StubCarrier: Service, Sendable {
    public let configuration: StubCarrierConfiguration
    let state = StubCarrierState()
    let webhookSender: StubWebhookSender
    let logger: Logger
    private let onServerRunning: @Sendable (_ port: Int) async -> Void

    /// Work that outlives the request starting it (delivery reports); run by ``run()`` in its
    /// own task group so it stops with the server.
    typealias Job = @Sendable () async -> Void
    private let jobs: AsyncStream<Job>
    private let jobSink: AsyncStream<Job>.Continuation

    /// - Parameters:
    ///   - configuration: where to listen, the webhook secret and the initial accounts.
    ///   - httpClient: the client webhooks are posted with; the caller shuts it down after
    ///     ``run()`` returns.
    ///   - logger: where requests and webhook attempts are logged.
    ///   - onServerRunning: called once the server listens, with the port it is bound to
    ///     (useful with port 0).
    public init(
        configuration: StubCarrierConfiguration,
        httpClient: HTTPClient,
        logger: Logger = Logger(label: "causeway.sms-stub"),
        onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.onServerRunning = onServerRunning
        self.webhookSender = StubWebhookSender(
            httpClient: httpClient,
            secret: Array(configuration.webhookSecret.utf8),
            attempts: configuration.webhookAttempts,
            initialBackoff: configuration.webhookInitialBackoff,
            timeout: configuration.webhookTimeout,
            logger: logger)
        (self.jobs, self.jobSink) = AsyncStream.makeStream(of: Job.self)
    }

    /// Serves until the task is cancelled or a graceful shutdown is triggered.
    /// - Throws: ``StubCarrierError`` for an invalid configuration, or the server's error.
    public func run() async throws {
        for (id, account) in configuration.accounts.sorted(by: { $0.key < $1.key }) {
            do {
                try await state.putAccount(id: id, account)
            } catch {
                throw StubCarrierError.invalidAccount(id: id, reason: error.description)
            }
        }
        guard !configuration.webhookSecret.isEmpty else { throw StubCarrierError.emptyWebhookSecret }

        let logger = self.logger
        let onServerRunning = self.onServerRunning
        let requestedPort = configuration.port
        let application = Application(
            router: makeRouter(),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "causeway-sms-stub"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? requestedPort
                logger.info("stub carrier listening", metadata: ["sms_stub.port": "\(port)"])
                await onServerRunning(port)
            },
            logger: logger)

        let jobSink = self.jobSink
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                // However the server ends, stop taking jobs so the loop below ends too.
                defer { jobSink.finish() }
                try await application.run()
            }
            for await job in jobs {
                group.addTask { await job() }
            }
            // Pending delivery reports die with the server rather than hold shutdown up.
            group.cancelAll()
        }
    }

    /// Runs `job` after the current request, within ``run()``'s lifetime.
    func schedule(_ job: @escaping Job) {
        jobSink.yield(job)
    }

    private func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: LogRequestsMiddleware(.debug))
        addCarrierRoutes(to: router)
        addControlRoutes(to: router)
        return router
    }
}

/// Why a ``StubCarrier`` cannot start.
public enum StubCarrierError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidAccount(id: String, reason: String)
    case emptyWebhookSecret

    public var description: String {
        switch self {
        case .invalidAccount(let id, let reason):
            return "stub carrier account '\(id)': \(reason)"
        case .emptyWebhookSecret:
            return "the stub carrier needs a webhook secret to sign webhooks with"
        }
    }
}
