import ComponentLink
import GatewayCore
import Logging
import Synchronization
import XMPPCore

/// Hands a component link's events to its gateway where the link reports them: on the link's
/// event loop, which is also the gateway's executor (see ``ActorExecutor``).
///
/// A stanza for an idle lane is handled at once: a plain message the gateway can send without
/// waiting (``Gateway/handleNow(_:)``) synchronously (several such in one read, as clients send
/// them at a steady rate, in one output batch), anything else in an immediate task. Either
/// way it is read, parsed, handled and written to the foreign network by the loop's thread
/// before it returns to its queue, until something really waits (a store read, a connection
/// opening). Stanzas for a busy lane wait in it (``StanzaLanes``). The link coming up or going down is a barrier: stanzas read
/// after it wait until the gateway has dealt with it, as they did behind a stream's reader.
///
/// All state changes happen on the gateway's executor; the lock only makes that checkable.
final class StanzaDispatcher: Sendable {
    private struct State {
        /// Events that arrived while a barrier was being handled, in order.
        var waiting: [LinkEvent] = []
        var barrierUnderWay = false
        /// Lane drainers and barriers under way.
        var running = 0
        /// The link has stopped reporting.
        var finished = false
        var whenDone: CheckedContinuation<Void, Never>?

        var isDone: Bool { finished && running == 0 && waiting.isEmpty }
    }

    private let state = Mutex(State())
    private let lanes = StanzaLanes()
    private let gateway: Gateway
    private let logger: Logger

    init(gateway: Gateway, logger: Logger) {
        self.gateway = gateway
        self.logger = logger
    }

    /// Takes what the link reports, on its event loop (the gateway's executor); nil when it stops.
    func linkReported(_ event: LinkEvent?) {
        gateway.assumeIsolated { gateway in
            guard let event else {
                update { $0.finished = true }
                return
            }
            let waits = state.withLock { state in
                if state.barrierUnderWay { state.waiting.append(event) }
                return state.barrierUnderWay
            }
            if !waits { dispatch(event, on: gateway) }
        }
    }

    /// Returns once the link has stopped reporting and everything it reported has been handled.
    func waitUntilDone(on gateway: isolated Gateway) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                if state.isDone { return true }
                state.whenDone = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }

    private func dispatch(_ event: LinkEvent, on gateway: isolated Gateway) {
        switch event {
        case .stanzas(let elements):
            let handled = handleNow(elements, on: gateway)
            guard handled < elements.count else { return }
            for (lane, first) in lanes.enqueue(handled == 0 ? elements : Array(elements[handled...])) {
                state.withLock { $0.running += 1 }
                Task.immediate {
                    await self.lanes.drain(lane, startingWith: first) { await gateway.handle($0) }
                    self.update { $0.running -= 1 }
                }
            }
        case .established:
            passBarrier(on: gateway) { await $0.linkEstablished() }
        case .down(let failure):
            logger.debug("bridge waiting for its link", metadata: ["reason": "\(failure.map { "\($0)" } ?? "closed")"])
            passBarrier(on: gateway) { await $0.linkLost() }
        }
    }

    /// Handles the leading plain messages of a read synchronously (``Gateway/sendNow(_:)``),
    /// as long as each one's sender has nothing else under way; returns how many it handled.
    /// What follows the first one it cannot handle so goes the async way, after them.
    ///
    /// A read of several (a client's messages sent together) is one ``OutputBatch``: their lines
    /// leave in one write, released before anything after them is handled, so order is kept.
    /// The sends are remembered for delivery reports (``Gateway/finishSend(_:)``) after that
    /// write, so the first message's line waits only for the others' sending, not for their
    /// bookkeeping and its own.
    private func handleNow(_ elements: [XMLElement], on gateway: isolated Gateway) -> Int {
        func mayGoNow(_ element: XMLElement) -> Bool {
            element.name == "message" && lanes.isIdle(laneOf: element)
        }
        guard elements.count > 1 else {
            guard let element = elements.first, mayGoNow(element), gateway.handleNow(element) else { return 0 }
            return 1
        }
        var sent: [SentNow] = []
        sent.reserveCapacity(elements.count)
        let batch = OutputBatch()
        OutputBatch.$current.withValue(batch) {
            for element in elements {
                guard mayGoNow(element), let one = gateway.sendNow(element) else { break }
                sent.append(one)
            }
        }
        batch.end()
        for one in sent { gateway.finishSend(one) }
        return sent.count
    }

    private func passBarrier(on gateway: isolated Gateway, _ work: @escaping @Sendable (isolated Gateway) async -> Void) {
        state.withLock {
            $0.barrierUnderWay = true
            $0.running += 1
        }
        Task.immediate {
            await work(gateway)
            self.state.withLock { $0.barrierUnderWay = false }
            // What waited goes now, in order, until another barrier stops it again.
            while let next = self.state.withLock({ state -> LinkEvent? in
                state.barrierUnderWay || state.waiting.isEmpty ? nil : state.waiting.removeFirst()
            }) {
                self.dispatch(next, on: gateway)
            }
            self.update { $0.running -= 1 }
        }
    }

    /// Applies `change`, and lets ``waitUntilDone(on:)`` return if that was the last of it.
    private func update(_ change: (inout State) -> Void) {
        let whenDone = state.withLock { state -> CheckedContinuation<Void, Never>? in
            change(&state)
            return state.isDone ? state.whenDone.take() : nil
        }
        whenDone?.resume()
    }
}
