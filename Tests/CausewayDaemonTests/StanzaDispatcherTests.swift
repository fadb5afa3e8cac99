import ComponentLink
import GatewayCore
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import XCTest
import XMPPCore
@testable import CausewayDaemon

final class StanzaDispatcherTests: XCTestCase {
    private let loop = MultiThreadedEventLoopGroup.singleton.next()

    /// A gateway on `loop`, as the daemon runs it.
    private func makeGateway(_ bridge: some Bridge, sender: RecordingSender = RecordingSender()) throws -> Gateway {
        Gateway(
            bridge: bridge, store: try GatewayStore.inMemory(vault: CredentialVault(key: Array(repeating: 7, count: 32))),
            sender: sender, policy: GatewayPolicy(allowedDomains: ["localhost"]), logger: Logger(label: "test"),
            executor: ActorExecutor(EventLoopSerialExecutor(loop))
        )
    }

    /// Reports `events` on the loop, then the link stopping, and waits until all is handled.
    private func report(_ events: [LinkEvent], to dispatcher: StanzaDispatcher, of gateway: Gateway) async throws {
        try await loop.submit {
            for event in events { dispatcher.linkReported(event) }
            dispatcher.linkReported(nil)
        }.get()
        let (done, finished) = AsyncStream.makeStream(of: Void.self)
        Task {
            await dispatcher.waitUntilDone(on: gateway)
            finished.yield()
        }
        try await firstValue(of: done, "the dispatcher to finish")
    }

    /// Stanzas reported on the link's loop are answered in order, including those reported while
    /// the link's coming up was still being handled (they wait behind it); once the link stops
    /// reporting, `waitUntilDone` returns, after every answer has gone out.
    func testStanzasAreAnsweredInOrderBehindTheLinkComingUp() async throws {
        let sender = RecordingSender()
        let gateway = try makeGateway(CoreOnlyBridge(identity: BridgeIdentity(domain: "core.localhost", name: "Core", gatewayType: "xmpp")), sender: sender)
        let dispatcher = StanzaDispatcher(gateway: gateway, logger: Logger(label: "test"))
        let pings = (1...5).map { number in
            XMLElement("iq", ["type": "get", "id": "p\(number)", "from": "alice@localhost/a", "to": "core.localhost"],
                       children: [.element(XMLElement("ping", namespace: Namespace.ping))])
        }
        try await report([.established, .stanzas(Array(pings[0..<3])), .stanzas(Array(pings[3...]))], to: dispatcher, of: gateway)
        let answered = sender.sent.filter { $0.name == "iq" && $0[attribute: "type"] == "result" }.map { $0[attribute: "id"] }
        XCTAssertEqual(answered, ["p1", "p2", "p3", "p4", "p5"])
    }

    /// The plain messages leading a read go out synchronously, those of a read of several in one
    /// output batch; from the first one that cannot, the rest of the read goes the async way, in
    /// order (the last message could go now, but must not overtake the one before it).
    func testLeadingMessagesOfAReadGoOutNowTogetherAndTheRestInOrder() async throws {
        let bridge = SendNowBridge()
        let sender = RecordingSender()
        let gateway = try makeGateway(bridge, sender: sender)
        await gateway.start()
        await gateway.linkEstablished()
        await gateway.handle(XMLElement.parse("<iq type='set' id='r1' from='alice@localhost/phone' to='now.localhost'><query xmlns='jabber:iq:register'><username>alice</username></query></iq>")!)
        await gateway.handle(XMLElement.parse("<presence from='alice@localhost/phone' to='now.localhost'/>")!)
        func message(_ body: String, to number: String) -> XMLElement {
            XMLElement.parse("<message type='chat' id='\(body)' from='alice@localhost/phone' to='\(number)@now.localhost'><body>\(body)</body></message>")!
        }
        let dispatcher = StanzaDispatcher(gateway: gateway, logger: Logger(label: "test"))
        try await report([.stanzas([message("one", to: "+15550001111")]),
                          .stanzas([message("two", to: "+15550001111"), message("three", to: "+15550002222"),
                                    message("four", to: "+19990001111"), message("five", to: "+15550001111")])],
                         to: dispatcher, of: gateway)
        XCTAssertEqual(bridge.log, ["one: now, alone", "two: now, in a batch", "three: now, in a batch", "four: async", "five: async"])

        // Each one sent at once was remembered (after its batch's write): its delivery report
        // reaches the user as a receipt for their message.
        for legacyID in ["now-1", "now-2", "now-3"] {
            try await bridge.report(.delivery(user: "alice@localhost", legacyMessageID: legacyID, outcome: .delivered))
        }
        let receipts = sender.sent.compactMap { $0.child("received", namespace: Namespace.receipts)?[attribute: "id"] }
        XCTAssertEqual(receipts, ["one", "two", "three"])
    }
}

/// Records what the gateway sends.
private final class RecordingSender: StanzaSender {
    private let box = Mutex<[XMLElement]>([])

    var sent: [XMLElement] { box.withLock { $0 } }

    func send(_ element: XMLElement) -> Bool {
        box.withLock { $0.append(element) }
        return true
    }

    func sendAcknowledged(_ element: XMLElement, onAcknowledged: @escaping @Sendable () -> Void) -> Bool {
        box.withLock { $0.append(element) }
        onAcknowledged()
        return true
    }
}
