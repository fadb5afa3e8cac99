import ComponentLink
import GatewayCore
import Logging
import ServiceLifecycle
import XMPPCore

/// Runs one bridge instance: feeds what its component link reports into its ``Gateway``.
///
/// Stanzas from one user are handled in order; different users' stanzas run side by side (see
/// ``StanzaLanes``). It stops on graceful shutdown before its link does (the group stops
/// services in reverse order), so the gateway's last words — unavailable presences,
/// acknowledged messages — still leave through the link.
///
/// The gateway must run on the link's event loop (``EventLoopSerialExecutor``), as the daemon
/// sets it up: the link's events are handed to it there, synchronously.
struct BridgeService: Service {
    let bridge: BridgeConfiguration
    let link: ComponentLink
    let gateway: Gateway
    let logger: Logger

    func run() async {
        await gateway.start()
        // Stanzas are handled where the link reads them (see StanzaDispatcher). On graceful
        // shutdown, or if cancelled, the link stops reporting; what it reported is still handled.
        let dispatcher = StanzaDispatcher(gateway: gateway, logger: logger)
        link.reportEvents { dispatcher.linkReported($0) }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await dispatcher.waitUntilDone(on: gateway)
            } onCancel: { [link] in
                link.stopReportingEvents()
            }
        } onGracefulShutdown: { [link] in
            link.stopReportingEvents()
        }
        await gateway.shutDown()
    }
}

extension BridgeService: CustomStringConvertible {
    /// How service-lifecycle names this service in its logs; never shows the secret.
    var description: String { "BridgeService(\(bridge.name), \(bridge.kind.name) on \(bridge.domain))" }
}

/// Hands the gateway core's outbound stanzas to a component link.
///
/// During an ``OutputBatch`` (stanzas, or IRC events, handled several at a time) stanzas are
/// queued without waking the link's event loop, and the batch wakes it once when it ends: a burst
/// of IRC messages cost an event loop wake-up (an `eventfd` write and a context switch) for
/// nearly every message, because the loop had drained the previous one by the time the next came.
struct LinkStanzaSender: StanzaSender {
    let link: ComponentLink
    private let wake: LinkWake

    init(link: ComponentLink) {
        self.link = link
        self.wake = LinkWake(link: link)
    }

    func send(_ element: XMLElement) -> Bool {
        guard let batch = OutputBatch.current else { return link.send(element) }
        defer { wake.hold(in: batch) }
        return link.send(element, wakingTheLoop: false)
    }

    func sendAcknowledged(_ element: XMLElement, onAcknowledged: @escaping @Sendable () -> Void) -> Bool {
        guard let batch = OutputBatch.current else { return link.sendAcknowledged(element, onAcknowledged: onAcknowledged) }
        defer { wake.hold(in: batch) }
        return link.sendAcknowledged(element, wakingTheLoop: false, onAcknowledged: onAcknowledged)
    }
}

/// Wakes a link's event loop for what a batch queued, when the batch ends.
private final class LinkWake: HeldOutput {
    let link: ComponentLink

    init(link: ComponentLink) {
        self.link = link
    }

    /// Asks `batch` to wake the loop when it ends; wakes it now if the batch has ended.
    func hold(in batch: OutputBatch) {
        if !batch.hold(self) { link.drainSoon() }
    }

    func releaseHeld() {
        link.drainSoon()
    }
}
