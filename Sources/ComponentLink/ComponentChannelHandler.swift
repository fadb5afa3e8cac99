import NIOCore
import XMPPCore

/// Runs a ``ComponentStateMachine`` on a channel: feeds it stream events and timer ticks, and
/// carries out its actions. Lives on the channel's event loop; the ``ComponentLink`` reaches it
/// only through that loop.
final class ComponentChannelHandler: ChannelInboundHandler {
    /// The events of one read (``XMPPStreamDecoder``).
    typealias InboundIn = [XMLStreamEvent]
    typealias OutboundOut = OutboundFrame

    /// How a connection ended, for the reconnect loop.
    struct Outcome: Sendable {
        var failure: LinkFailure?
        var wasEstablished: Bool
    }

    private var machine: ComponentStateMachine
    private let configuration: ComponentLinkConfiguration
    private let link: ComponentLink
    private let outcome: EventLoopPromise<Outcome>
    private var context: ChannelHandlerContext?
    private var wasEstablished = false
    private var timers: [Timer: Scheduled<Void>] = [:]
    /// What to call when each acknowledged stanza's ping is answered.
    private var acknowledgementCallbacks: [String: [@Sendable () -> Void]] = [:]
    /// Acknowledged stanzas written while a ping was out: the next ping, sent when that one is
    /// answered, covers them all. One ping per round trip, however small the drains of a burst.
    private var uncoveredCallbacks: [@Sendable () -> Void] = []
    /// Stanzas of the current read, reported together when the read completes: one hand-over
    /// to the gateway per read, not per stanza.
    private var undelivered: [XMLElement] = []

    private enum Timer: Hashable {
        case handshake, whitespace, ping, close
    }

    init(configuration: ComponentLinkConfiguration, link: ComponentLink, outcome: EventLoopPromise<Outcome>) {
        self.configuration = configuration
        self.machine = ComponentStateMachine(
            domain: configuration.domain, secret: configuration.secret, serverDomain: configuration.serverDomain
        )
        self.link = link
        self.outcome = outcome
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard machine.state == .idle else { return }
        schedule(.handshake, after: configuration.handshakeTimeout, repeating: false) { $0.machine.handshakeTimedOut() }
        run(machine.connected())
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        for event in unwrapInboundIn(data) {
            run(machine.received(event))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        deliverUndelivered()
        context.fireChannelReadComplete()
    }

    private func deliverUndelivered() {
        guard !undelivered.isEmpty else { return }
        link.deliver(undelivered)
        undelivered = []
    }

    func channelInactive(context: ChannelHandlerContext) {
        // What the last read brought is reported before the link goes down.
        deliverUndelivered()
        for timer in timers.values { timer.cancel() }
        timers.removeAll()
        // Unacknowledged stanzas stay with their senders, who send them again after reconnecting.
        acknowledgementCallbacks.removeAll()
        uncoveredCallbacks.removeAll()
        let failure = machine.connectionClosed()
        link.connectionEnded(failure: failure)
        outcome.succeed(Outcome(failure: failure, wasEstablished: wasEstablished))
        self.context = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // An I/O error ends this connection; the reconnect loop takes over.
        context.close(promise: nil)
    }

    /// Writes every waiting stanza, oldest first, if the link is up; stanzas to be acknowledged
    /// are covered by a ping that follows them (see ``uncoveredCallbacks``). One flush for the lot.
    func drainQueue() {
        guard machine.isEstablished, let context else { return }
        let batch = link.takeQueued()
        guard !batch.isEmpty else { return }
        var elements: [XMLElement] = []
        elements.reserveCapacity(batch.count)
        for entry in batch {
            elements.append(entry.element)
            if let callback = entry.onAcknowledged { uncoveredCallbacks.append(callback) }
        }
        context.write(wrapOutboundOut(elements.count == 1 ? .element(elements[0]) : .elements(elements)), promise: nil)
        if acknowledgementCallbacks.isEmpty { writeAcknowledgementPing(context) }
        context.flush()
    }

    /// A ping after everything written so far, whose answer acknowledges the uncovered stanzas.
    private func writeAcknowledgementPing(_ context: ChannelHandlerContext) {
        guard !uncoveredCallbacks.isEmpty, case .writeAcknowledgementPing(let ping, let id) = machine.acknowledgementPing() else { return }
        acknowledgementCallbacks[id] = uncoveredCallbacks
        uncoveredCallbacks = []
        context.write(wrapOutboundOut(.element(ping)), promise: nil)
    }

    /// Ends the stream politely: flush what waits, send `</stream:stream>`, then wait a bounded
    /// time for the server to end its side.
    func close() {
        drainQueue()
        // Nothing is written after the stream's end: cover what waits for a ping now.
        if let context, !uncoveredCallbacks.isEmpty {
            writeAcknowledgementPing(context)
            context.flush()
        }
        let action = machine.closeRequested()
        if case .write(.streamEnd) = action {
            schedule(.close, after: configuration.closeTimeout, repeating: false) { $0.machine.closeTimedOut() }
        }
        run(action)
    }

    private func run(_ action: ComponentStateMachine.Action) {
        guard let context else { return }
        switch action {
        case .write(let frame):
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        case .linkEstablished:
            wasEstablished = true
            timers[.handshake]?.cancel()
            schedule(.whitespace, after: configuration.whitespaceInterval, repeating: true) { $0.machine.whitespaceTimerFired() }
            schedule(.ping, after: configuration.pingInterval, repeating: true) { $0.machine.pingTimerFired() }
            link.connectionEstablished(handler: NIOLoopBound(self, eventLoop: context.eventLoop))
            drainQueue()
        case .deliver(let element):
            undelivered.append(element)
        case .writeAcknowledgementPing(let ping, _):
            context.writeAndFlush(wrapOutboundOut(.element(ping)), promise: nil)
        case .acknowledged(let id):
            for callback in acknowledgementCallbacks.removeValue(forKey: id) ?? [] { callback() }
            if acknowledgementCallbacks.isEmpty, !uncoveredCallbacks.isEmpty {
                writeAcknowledgementPing(context)
                context.flush()
            }
        case .failStream(let error, _):
            context.writeAndFlush(wrapOutboundOut(.streamError(error)), promise: nil)
            context.close(promise: nil)
        case .closeConnection:
            context.close(promise: nil)
        case .none:
            break
        }
    }

    /// Feeds a timer tick into the machine, once or every `delay`, while the channel lives.
    private func schedule(
        _ name: Timer, after delay: Duration, repeating: Bool,
        _ tick: @escaping (ComponentChannelHandler) -> ComponentStateMachine.Action
    ) {
        guard let context else { return }
        let loop = context.eventLoop.assumeIsolated()
        let timer = loop.scheduleTask(in: TimeAmount(delay)) { [self] in
            guard self.context != nil else { return }
            self.run(tick(self))
            if repeating { self.schedule(name, after: delay, repeating: true, tick) }
        }
        timers[name] = timer
    }
}

@available(*, unavailable)
extension ComponentChannelHandler: Sendable {}
