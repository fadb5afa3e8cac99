import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TestSupport
import XCTest
import XMPPCore
@testable import ComponentLink

fileprivate typealias XMLElement = XMPPCore.XMLElement

/// A fake XMPP server on loopback speaking just enough XEP-0114 to accept a component, so the
/// link's reconnect and queueing can be tested with real sockets.
private final class FakeComponentServer: @unchecked Sendable {
    enum Event: Sendable, Equatable {
        case handshake(String)
        case stanza(XMLElement)
        case streamEnd
    }

    let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private var channel: Channel?
    private let connections = NIOLockedValueBox<[Channel]>([])
    let refuseHandshake: Bool
    /// Pings received, and while ``holdPings`` is set, the unanswered ones with their channels.
    fileprivate let pings = NIOLockedValueBox<(count: Int, hold: Bool, held: [(Channel, String)])>((0, false, []))

    /// From now on, pings wait for ``answerHeldPings()``.
    func holdPings() {
        pings.withLockedValue { $0.hold = true }
    }

    /// Answers the held pings and stops holding.
    func answerHeldPings() {
        let held = pings.withLockedValue { pings in
            defer { pings.hold = false; pings.held = [] }
            return pings.held
        }
        for (channel, id) in held { channel.writeAndFlush(channel.allocator.buffer(string: Self.pingAnswer(id)), promise: nil) }
    }

    var pingCount: Int { pings.withLockedValue { $0.count } }

    fileprivate static func pingAnswer(_ id: String) -> String {
        "<iq type='result' id='\(id)' from='localhost' to='gw.localhost'/>"
    }

    init(refuseHandshake: Bool = false) {
        (events, continuation) = AsyncStream.makeStream()
        self.refuseHandshake = refuseHandshake
    }

    func start() async throws -> Int {
        let continuation = self.continuation
        let refuse = refuseHandshake
        let connections = self.connections
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                connections.withLockedValue { $0.append(child) }
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(XMPPStreamDecoder())
                    try child.pipeline.syncOperations.addHandler(ServerHandler(continuation: continuation, refuse: refuse, pings: self.pings))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.channel = channel
        return channel.localAddress!.port!
    }

    /// Writes `text` to every open connection in one write.
    func push(_ text: String) {
        for connection in connections.withLockedValue({ $0 }) {
            connection.writeAndFlush(connection.allocator.buffer(string: text), promise: nil)
        }
    }

    /// Drops every open connection, as a restarting server would.
    func dropConnections() async throws {
        for connection in connections.withLockedValue({ $0 }) {
            try? await connection.close()
        }
        connections.withLockedValue { $0.removeAll() }
    }

    func stop() async throws {
        try await dropConnections()
        try await channel?.close()
    }

    private final class ServerHandler: ChannelInboundHandler {
        typealias InboundIn = [XMLStreamEvent]
        let continuation: AsyncStream<Event>.Continuation
        let refuse: Bool
        let pings: NIOLockedValueBox<(count: Int, hold: Bool, held: [(Channel, String)])>

        init(continuation: AsyncStream<Event>.Continuation, refuse: Bool, pings: NIOLockedValueBox<(count: Int, hold: Bool, held: [(Channel, String)])>) {
            self.continuation = continuation
            self.refuse = refuse
            self.pings = pings
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            for event in unwrapInboundIn(data) {
                handle(event, context)
            }
        }

        private func handle(_ event: XMLStreamEvent, _ context: ChannelHandlerContext) {
            switch event {
            case .streamOpened:
                write(context, "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' id='s1'>")
            case .element(let element) where element.name == "handshake":
                continuation.yield(.handshake(element.text))
                if refuse {
                    write(context, "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>")
                    context.close(promise: nil)
                } else {
                    write(context, "<handshake/>")
                }
            case .element(let element) where element.name == "iq" && element.child("ping", namespace: Namespace.ping) != nil:
                // Answered like a server would (unless held); not reported, as it is link machinery.
                let id = element[attribute: "id"] ?? ""
                let channel = context.channel
                let hold = pings.withLockedValue { pings in
                    pings.count += 1
                    if pings.hold { pings.held.append((channel, id)) }
                    return pings.hold
                }
                if !hold { write(context, FakeComponentServer.pingAnswer(id)) }
            case .element(let element):
                continuation.yield(.stanza(element))
            case .streamClosed:
                continuation.yield(.streamEnd)
                write(context, "</stream:stream>")
                context.close(promise: nil)
            case .failed:
                context.close(promise: nil)
            }
        }

        private func write(_ context: ChannelHandlerContext, _ text: String) {
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: text)), promise: nil)
        }
    }
}

final class ComponentLinkLoopbackTests: XCTestCase {
    private func makeLink(port: Int) -> ComponentLink {
        var configuration = ComponentLinkConfiguration(domain: "gw.localhost", secret: "s3cret", host: "127.0.0.1", port: port, serverDomain: "localhost")
        configuration.reconnectInitialDelay = .milliseconds(20)
        configuration.reconnectMaximumDelay = .milliseconds(100)
        return ComponentLink(configuration: configuration, group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test"))
    }

    /// A fake server and a running link to it, once the link has reported `.established`.
    private func establishedLink() async throws -> (FakeComponentServer, ComponentLink, Task<Void, any Error>) {
        let server = FakeComponentServer()
        let port = try await server.start()
        let link = makeLink(port: port)
        let running = Task { try await link.run() }
        let comingUp = try await first(1, of: link.events, "the link coming up")
        XCTAssertEqual(comingUp, [.established])
        return (server, link, running)
    }

    private func message(_ id: Int) -> XMLElement {
        Message(type: .chat, from: try? JID("a@gw.localhost"), to: try? JID("u@localhost"), id: "m\(id)", body: "body \(id)").element
    }

    /// The next `count` events from the server, or a failure after a bounded wait.
    private func next(_ count: Int, from iterator: inout AsyncStream<FakeComponentServer.Event>.Iterator) async throws -> [FakeComponentServer.Event] {
        var collected: [FakeComponentServer.Event] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while collected.count < count {
            guard ContinuousClock.now < deadline else { throw TimedOut(description: "timed out waiting for server events; got \(collected)") }
            guard let event = await iterator.next() else { break }
            collected.append(event)
        }
        return collected
    }

    private struct TimedOut: Error, CustomStringConvertible {
        var description: String
    }

    /// The first `count` values of `stream`, waited for with a bound.
    private func first<Events: AsyncSequence & Sendable>(_ count: Int, of stream: Events, _ what: String) async throws -> [Events.Element]
    where Events.Element: Sendable, Events.Failure == Never {
        try await withTimeout(10, what) {
            var values: [Events.Element] = []
            for await value in stream {
                values.append(value)
                if values.count == count { break }
            }
            return values
        }
    }

    private func stanzaIDs(_ events: ArraySlice<FakeComponentServer.Event>) -> [String?] {
        events.map { event -> String? in
            guard case .stanza(let element) = event else { return nil }
            return element[attribute: "id"]
        }
    }

    func testQueuedStanzasGoOutInOrderAcrossAReconnect() async throws {
        let server = FakeComponentServer()
        let port = try await server.start()
        let link = makeLink(port: port)
        var serverEvents = server.events.makeAsyncIterator()

        // Sent before the link ever connected: they wait in the queue.
        link.send(message(1))
        link.send(message(2))
        let running = Task { try await link.run() }

        let first = try await next(3, from: &serverEvents)
        XCTAssertEqual(first[0], .handshake(HandshakeDigest.compute(streamID: "s1", secret: "s3cret")))
        XCTAssertEqual(stanzaIDs(first[1...]), ["m1", "m2"])

        try await server.dropConnections()
        for id in 3...6 { link.send(message(id)) }

        let second = try await next(5, from: &serverEvents)
        XCTAssertEqual(second[0], .handshake(HandshakeDigest.compute(streamID: "s1", secret: "s3cret")))
        XCTAssertEqual(stanzaIDs(second[1...]), ["m3", "m4", "m5", "m6"])

        running.cancel()
        try await server.stop()
    }

    func testAcknowledgedSendCallsBackOnceTheServerProcessedIt() async throws {
        let server = FakeComponentServer()
        let port = try await server.start()
        let link = makeLink(port: port)
        XCTAssertFalse(link.sendAcknowledged(message(0)) {}, "refused while the link is down")
        let running = Task { try await link.run() }
        var events = link.events.makeAsyncIterator()
        let established = await events.next()
        XCTAssertEqual(established, .established)

        let (acknowledgements, acknowledge) = AsyncStream.makeStream(of: Int.self)
        for id in 1...3 {
            XCTAssertTrue(link.sendAcknowledged(message(id)) { acknowledge.yield(id) })
        }
        let received = try await first(3, of: acknowledgements, "three acknowledgements")
        XCTAssertEqual(received, [1, 2, 3])
        var serverEvents = server.events.makeAsyncIterator()
        let seen = try await next(4, from: &serverEvents)
        XCTAssertEqual(stanzaIDs(seen[1...]), ["m1", "m2", "m3"])
        running.cancel()
        try await server.stop()
    }

    /// Stanzas queued without waking the event loop stay queued, however long the loop runs,
    /// until ``ComponentLink/drainSoon()``; then they go out in order, acknowledgements included.
    func testStanzasQueuedWithoutWakingTheLoopWaitForDrainSoon() async throws {
        let (server, link, running) = try await establishedLink()
        var serverEvents = server.events.makeAsyncIterator()
        _ = try await next(1, from: &serverEvents)  // the handshake
        // The link reports itself up just before its first drain, in the same turn of the loop.
        try await link.eventLoop.submit {}.get()

        let (acknowledgements, acknowledge) = AsyncStream.makeStream(of: Int.self)
        XCTAssertTrue(link.send(message(1), wakingTheLoop: false))
        XCTAssertTrue(link.sendAcknowledged(message(2), wakingTheLoop: false) { acknowledge.yield(2) })
        // Two full turns of the event loop: nothing was scheduled, so nothing was taken.
        try await link.eventLoop.submit {}.get()
        try await link.eventLoop.submit {}.get()
        XCTAssertEqual(link.queuedCount, 2)

        link.drainSoon()
        let seen = try await next(2, from: &serverEvents)
        XCTAssertEqual(stanzaIDs(seen[...]), ["m1", "m2"])
        let received = try await first(1, of: acknowledgements, "the acknowledgement")
        XCTAssertEqual(received, [2])
        XCTAssertEqual(link.queuedCount, 0)
        link.drainSoon()  // nothing waits: no drain, no harm
        running.cancel()
        try await server.stop()
    }

    func testStanzasSentWhileAPingIsOutShareTheNextPing() async throws {
        let (server, link, running) = try await establishedLink()
        var serverEvents = server.events.makeAsyncIterator()
        _ = try await next(1, from: &serverEvents)  // the handshake

        server.holdPings()
        let (acknowledgements, acknowledge) = AsyncStream.makeStream(of: Int.self)
        for id in 1...6 {
            XCTAssertTrue(link.sendAcknowledged(message(id)) { acknowledge.yield(id) })
            // Each in a drain of its own: the server has it before the next is sent.
            _ = try await next(1, from: &serverEvents)
        }
        XCTAssertEqual(server.pingCount, 1, "one ping out at a time")
        server.answerHeldPings()
        let received = try await first(6, of: acknowledgements, "six acknowledgements")
        XCTAssertEqual(received, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(server.pingCount, 2, "the second ping covered the five sent while the first was out")
        running.cancel()
        try await server.stop()
    }

    func testInboundStanzasAreReportedInOrder() async throws {
        let (server, link, running) = try await establishedLink()
        XCTAssertTrue(link.isEstablished)
        running.cancel()
        try await server.stop()
    }

    func testWrongSecretIsRetriedAndNotEstablished() async throws {
        let server = FakeComponentServer(refuseHandshake: true)
        let port = try await server.start()
        let link = makeLink(port: port)
        let running = Task { try await link.run() }
        var serverEvents = server.events.makeAsyncIterator()
        // Two handshakes prove the link retried after the refusal.
        let events = try await next(2, from: &serverEvents)
        XCTAssertEqual(events.count, 2)
        XCTAssertFalse(link.isEstablished)
        running.cancel()
        try await server.stop()
    }

    /// Stanzas that arrive in one read reach the gateway as one event, in order; what arrives
    /// before the server goes away is reported before the link is down.
    func testStanzasOfOneReadAreReportedTogether() async throws {
        let (server, link, running) = try await establishedLink()

        let incoming = (1...3).map { "<message xmlns='jabber:component:accept' from='u@localhost/r' to='a@gw.localhost' id='in\($0)'><body>\($0)</body></message>" }
        server.push(incoming.joined())
        let batch = try await first(1, of: link.events, "the pushed stanzas")
        XCTAssertEqual(batch.map(Self.stanzaIDs), [["in1", "in2", "in3"]], "one write, one event, in order")

        server.push(incoming[0])
        try await server.dropConnections()
        let last = try await first(2, of: link.events, "the last stanza and the drop")
        XCTAssertEqual(last.first.map(Self.stanzaIDs), ["in1"], "the stanza before the drop comes first")
        if case .down = last.last {} else { XCTFail("the link goes down after its last stanza: \(last)") }
        running.cancel()
        try await server.stop()
    }

    private static func stanzaIDs(_ event: LinkEvent) -> [String] {
        guard case .stanzas(let elements) = event else { return [] }
        return elements.map { $0[attribute: "id"] ?? "" }
    }
}
