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
    /// Stanzas reported on the link's loop are answered in order, including those reported while
    /// the link's coming up was still being handled (they wait behind it); once the link stops
    /// reporting, `waitUntilDone` returns, after every answer has gone out.
    func testStanzasAreAnsweredInOrderBehindTheLinkComingUp() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let sender = RecordingSender()
        let gateway = Gateway(
            bridge: CoreOnlyBridge(identity: BridgeIdentity(domain: "core.localhost", name: "Core", gatewayType: "xmpp")),
            store: try GatewayStore.inMemory(vault: CredentialVault(key: Array(repeating: 7, count: 32))),
            sender: sender, policy: GatewayPolicy(allowedDomains: ["localhost"]), logger: Logger(label: "test"),
            executor: ActorExecutor(EventLoopSerialExecutor(loop))
        )
        let dispatcher = StanzaDispatcher(gateway: gateway, logger: Logger(label: "test"))
        let pings = (1...5).map { number in
            XMLElement("iq", ["type": "get", "id": "p\(number)", "from": "alice@localhost/a", "to": "core.localhost"],
                       children: [.element(XMLElement("ping", namespace: Namespace.ping))])
        }
        try await loop.submit {
            dispatcher.linkReported(.established)
            dispatcher.linkReported(.stanzas(Array(pings[0..<3])))
            dispatcher.linkReported(.stanzas(Array(pings[3...])))
            dispatcher.linkReported(nil)
        }.get()

        let (done, finished) = AsyncStream.makeStream(of: Void.self)
        Task {
            await dispatcher.waitUntilDone(on: gateway)
            finished.yield()
        }
        try await firstValue(of: done, "the dispatcher to finish")
        let answered = sender.sent.filter { $0.name == "iq" && $0[attribute: "type"] == "result" }.map { $0[attribute: "id"] }
        XCTAssertEqual(answered, ["p1", "p2", "p3", "p4", "p5"])
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
