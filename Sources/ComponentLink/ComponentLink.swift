import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle
import XMPPCore

/// One XEP-0114 component link to the XMPP server, kept up for as long as the service runs.
///
/// It connects, handshakes, and hands every stanza it receives to ``events`` in order; stanzas
/// given to ``send(_:)`` go out in order, waiting in a bounded queue while the link is down. A lost
/// link is reconnected with exponential backoff and jitter. On graceful shutdown it flushes the
/// queue and ends the stream with `</stream:stream>`.
public final class ComponentLink: Service, Sendable {
    public let configuration: ComponentLinkConfiguration
    /// What happens on the link, in order: established, stanzas, down.
    public let events = LinkEventStream()

    /// The event loop of every connection of this link, so work that wants to sit next to the
    /// link's I/O (the daemon runs its gateway there) always can.
    public let eventLoop: any EventLoop
    private let logger: Logger
    private let shared: NIOLockedValueBox<Shared>

    private struct Shared {
        var queue: OutboundQueue
        var handler: NIOLoopBound<ComponentChannelHandler>?
        var drainScheduled = false
        var shuttingDown = false

        /// The handler to wake for a drain, marking the drain scheduled; nil when the link is
        /// down or a drain is already due.
        mutating func handlerToWake() -> NIOLoopBound<ComponentChannelHandler>? {
            guard let handler, !drainScheduled else { return nil }
            drainScheduled = true
            return handler
        }
    }

    public init(configuration: ComponentLinkConfiguration, group: any EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.eventLoop = group.next()
        var logger = logger
        logger[metadataKey: "domain"] = .string(configuration.domain)
        self.logger = logger
        self.shared = NIOLockedValueBox(Shared(queue: OutboundQueue(limit: configuration.queueLimit)))
    }

    /// Whether the handshake has succeeded and the link is up right now.
    public var isEstablished: Bool {
        shared.withLockedValue { $0.handler != nil }
    }

    /// Queues a stanza for the server; it goes out at once when the link is up, in order with
    /// everything sent before it. Returns false, and keeps nothing, when the link is down and the
    /// queue is full.
    ///
    /// With `wakingTheLoop` false the stanza waits in the queue until ``drainSoon()`` (or any
    /// later send) wakes the event loop: a caller producing many stanzas in a row from another
    /// thread wakes it once for all of them instead of once per stanza.
    @discardableResult
    public func send(_ element: XMLElement, wakingTheLoop: Bool = true) -> Bool {
        let (accepted, handlerToWake) = shared.withLockedValue { shared -> (Bool, NIOLoopBound<ComponentChannelHandler>?) in
            guard shared.queue.append(element) else { return (false, nil) }
            return (true, wakingTheLoop ? shared.handlerToWake() : nil)
        }
        if !accepted {
            logger.error("outbound queue full; stanza refused", metadata: ["limit": "\(configuration.queueLimit)"])
        }
        Self.wake(handlerToWake)
        return accepted
    }

    /// Sends a stanza and calls `onAcknowledged` once the server has processed it. Stanzas sent
    /// together go out in one write; a ping after them, one out at a time, acknowledges all that
    /// went out before it.
    /// Returns false, sending nothing, when the link is down; the caller keeps the stanza and
    /// sends it again after ``LinkEvent/established``. A callback never comes for a stanza whose
    /// connection was lost first. `wakingTheLoop` is as for ``send(_:wakingTheLoop:)``.
    public func sendAcknowledged(_ element: XMLElement, wakingTheLoop: Bool = true, onAcknowledged: @escaping @Sendable () -> Void) -> Bool {
        let (accepted, handlerToWake) = shared.withLockedValue { shared -> (Bool, NIOLoopBound<ComponentChannelHandler>?) in
            guard shared.handler != nil else { return (false, nil) }
            shared.queue.appendAcknowledged(element, onAcknowledged: onAcknowledged)
            return (true, wakingTheLoop ? shared.handlerToWake() : nil)
        }
        Self.wake(handlerToWake)
        return accepted
    }

    /// How many stanzas wait in the queue (for tests).
    var queuedCount: Int { shared.withLockedValue { $0.queue.count } }

    /// Wakes the event loop to write what waits in the queue, unless it is already due to.
    public func drainSoon() {
        let handlerToWake = shared.withLockedValue { shared in
            shared.queue.isEmpty ? nil : shared.handlerToWake()
        }
        Self.wake(handlerToWake)
    }

    public func run() async throws {
        var backoff = ReconnectBackoff(
            initial: configuration.reconnectInitialDelay, maximum: configuration.reconnectMaximumDelay
        )
        var consecutiveFailures = 0
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !isShuttingDown {
                let outcome = await connectOnce()
                if outcome.wasEstablished {
                    backoff.reset()
                    consecutiveFailures = 0
                }
                if isShuttingDown || Task.isCancelled { break }
                consecutiveFailures += 1
                let delay = backoff.nextDelay()
                report(outcome.failure, attempt: consecutiveFailures, retryIn: delay)
                await sleepUnlessShuttingDown(for: delay)
            }
        } onGracefulShutdown: {
            self.shutDown()
        }
        finishEvents()
        logger.info("component link closed")
    }

    /// Ends ``events`` (after what is already reported), for a consumer that is shutting down;
    /// the link itself keeps running (sending what it is given) until its own shutdown.
    public func stopReportingEvents() {
        finishEvents()
    }

    /// Reports every event from now on by calling `handler` on the link's event loop, as it
    /// happens, instead of through ``events`` (events not yet read from it go first); nil when the
    /// link stops reporting. For a consumer that runs on the loop itself and must not block it:
    /// a stanza the loop has read can then be handled before the loop returns to its queue.
    public func reportEvents(to handler: @escaping @Sendable (LinkEvent?) -> Void) {
        eventLoop.execute { self.events.handOver(to: handler) }
    }

    /// Events are yielded on the loop; finishing there too keeps the end after them.
    private func finishEvents() {
        eventLoop.execute { self.events.finish() }
    }

    // MARK: - Called by the channel handler, on its event loop

    func connectionEstablished(handler: NIOLoopBound<ComponentChannelHandler>) {
        let shuttingDown = shared.withLockedValue { shared in
            shared.handler = handler
            shared.queue.linkEstablished()
            shared.drainScheduled = false
            return shared.shuttingDown
        }
        logger.info("component link established", metadata: ["server": "\(configuration.host):\(configuration.port)"])
        events.yield(.established)
        if shuttingDown { handler.value.close() }
    }

    func connectionEnded(failure: LinkFailure?) {
        let wasUp = shared.withLockedValue { shared in
            defer { shared.handler = nil; shared.drainScheduled = false }
            shared.queue.linkLost()
            return shared.handler != nil
        }
        if wasUp { events.yield(.down(failure)) }
    }

    func deliver(_ elements: [XMLElement]) {
        events.yield(.stanzas(elements))
    }

    func takeQueued() -> [OutboundQueue.Entry] {
        shared.withLockedValue { shared in
            shared.drainScheduled = false
            return shared.queue.removeAll()
        }
    }

    // MARK: - Private

    private static func wake(_ handler: NIOLoopBound<ComponentChannelHandler>?) {
        guard let handler else { return }
        handler.eventLoop.execute { handler.value.drainQueue() }
    }

    private var isShuttingDown: Bool {
        shared.withLockedValue { $0.shuttingDown }
    }

    private func shutDown() {
        let handler = shared.withLockedValue { shared in
            shared.shuttingDown = true
            return shared.handler
        }
        handler?.eventLoop.execute { handler?.value.close() }
    }

    private func connectOnce() async -> ComponentChannelHandler.Outcome {
        let configuration = self.configuration
        let eventLoop = self.eventLoop
        let outcome = eventLoop.makePromise(of: ComponentChannelHandler.Outcome.self)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(XMPPStreamDecoder(limits: configuration.parserLimits))
                    try sync.addHandler(XMPPStreamEncoder())
                    try sync.addHandler(ComponentChannelHandler(configuration: configuration, link: self, outcome: outcome))
                }
            }
        do {
            _ = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            outcome.fail(error)
            return .init(failure: .connectFailed("\(error)"), wasEstablished: false)
        }
        do {
            return try await outcome.futureResult.get()
        } catch {
            return .init(failure: .connectFailed("\(error)"), wasEstablished: false)
        }
    }

    private func report(_ failure: LinkFailure?, attempt: Int, retryIn delay: Duration) {
        let explanation = failure?.explanation(
            domain: configuration.domain, host: configuration.host, port: configuration.port
        ) ?? "the component link closed"
        let metadata: Logger.Metadata = ["attempt": "\(attempt)", "retry_in": "\(delay)"]
        if failure?.needsConfigurationChange == true || attempt == 1 {
            logger.error("\(explanation); retrying", metadata: metadata)
        } else {
            logger.warning("\(explanation); retrying", metadata: metadata)
        }
    }

    private func sleepUnlessShuttingDown(for delay: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: delay) }
            group.addTask { try? await gracefulShutdown() }
            await group.next()
            group.cancelAll()
        }
    }
}

extension ComponentLink: CustomStringConvertible {
    /// How service-lifecycle names this service in its logs; never shows the secret.
    public var description: String { "ComponentLink(\(configuration.domain))" }
}
