import XCTest
import XMPPCore
@testable import GatewayCore

fileprivate typealias XMLElement = XMPPCore.XMLElement

final class CoreQueryResponderTests: XCTestCase {
    let responder = CoreQueryResponder(identity: BridgeIdentity(domain: "gw.localhost", name: "Test gateway", gatewayType: "irc"))

    private func request(_ payload: XMLElement?, type: String = "get", to: String = "gw.localhost") -> XMLElement {
        var iq = XMLElement("iq", namespace: Namespace.component, ["type": type, "id": "q1", "from": "user@localhost/res", "to": to])
        if let payload { iq.append(payload) }
        return iq
    }

    func testDiscoInfoOnTheDomain() throws {
        let reply = try XCTUnwrap(responder.answer(request(XMLElement("query", namespace: Namespace.discoInfo))))
        XCTAssertEqual(reply[attribute: "type"], "result")
        XCTAssertEqual(reply[attribute: "to"], "user@localhost/res")
        XCTAssertEqual(reply[attribute: "from"], "gw.localhost")
        XCTAssertEqual(reply[attribute: "id"], "q1")
        let query = try XCTUnwrap(reply.child("query", namespace: Namespace.discoInfo))
        let identity = try XCTUnwrap(query.child("identity"))
        XCTAssertEqual(identity[attribute: "category"], "gateway")
        XCTAssertEqual(identity[attribute: "type"], "irc")
        XCTAssertEqual(identity[attribute: "name"], "Test gateway")
        let features = query.children("feature").compactMap { $0[attribute: "var"] }
        for feature in [Namespace.discoInfo, Namespace.discoItems, Namespace.version, Namespace.ping, "jid\\20escaping"] {
            XCTAssertTrue(features.contains(feature), feature)
        }
    }

    func testDiscoItemsVersionAndPing() throws {
        let items = try XCTUnwrap(responder.answer(request(XMLElement("query", namespace: Namespace.discoItems))))
        XCTAssertNotNil(items.child("query", namespace: Namespace.discoItems))
        let version = try XCTUnwrap(responder.answer(request(XMLElement("query", namespace: Namespace.version))))
        XCTAssertEqual(version.child("query")?.childText("name"), "Causeway")
        XCTAssertEqual(version.child("query")?.childText("version"), CausewayVersion.version)
        let pong = try XCTUnwrap(responder.answer(request(XMLElement("ping", namespace: Namespace.ping))))
        XCTAssertEqual(pong[attribute: "type"], "result")
        XCTAssertTrue(pong.children.isEmpty)
    }

    func testUnknownRequestsGetServiceUnavailable() throws {
        for type in ["get", "set"] {
            let reply = try XCTUnwrap(responder.answer(request(XMLElement("query", namespace: "urn:example:nothing"), type: type)))
            XCTAssertEqual(reply[attribute: "type"], "error")
            XCTAssertEqual(StanzaError(stanza: reply)?.condition, .serviceUnavailable)
        }
        // disco#info on a JID the core does not own yet, and a node it does not know.
        let contact = try XCTUnwrap(responder.answer(request(XMLElement("query", namespace: Namespace.discoInfo), to: "bob@gw.localhost")))
        XCTAssertEqual(StanzaError(stanza: contact)?.condition, .serviceUnavailable)
        let node = try XCTUnwrap(responder.answer(request(XMLElement("query", namespace: Namespace.discoInfo, ["node": "x"]))))
        XCTAssertEqual(StanzaError(stanza: node)?.condition, .serviceUnavailable)
    }

    func testRequestWithoutPayloadIsABadRequest() throws {
        let reply = try XCTUnwrap(responder.answer(request(nil)))
        XCTAssertEqual(StanzaError(stanza: reply)?.condition, .badRequest)
    }

    func testErrorsResultsAndNonIQsAreNeverAnswered() {
        XCTAssertNil(responder.answer(request(XMLElement("query", namespace: "urn:x"), type: "error")))
        XCTAssertNil(responder.answer(request(XMLElement("query", namespace: "urn:x"), type: "result")))
        XCTAssertNil(responder.answer(XMLElement("message", ["type": "error"])))
        XCTAssertNil(responder.answer(XMLElement("iq", ["id": "no-type"])))
    }
}

final class BridgeRouterTests: XCTestCase {
    final class RecordingSender: StanzaSender, @unchecked Sendable {
        var sent: [XMPPCore.XMLElement] = []
        func send(_ element: XMPPCore.XMLElement) -> Bool { sent.append(element); return true }
        func sendAcknowledged(_ element: XMPPCore.XMLElement, onAcknowledged: @escaping @Sendable () -> Void) -> Bool {
            sent.append(element)
            onAcknowledged()
            return true
        }
    }

    func testRepliesGoThroughTheSenderAndErrorsAreNotAnswered() {
        let sender = RecordingSender()
        let router = BridgeRouter(identity: BridgeIdentity(domain: "gw.localhost", name: "n", gatewayType: "xmpp"), sender: sender, logger: .init(label: "t"))
        router.route(XMLElement("iq", ["type": "get", "id": "1", "from": "u@localhost", "to": "gw.localhost"]).appending(XMLElement("ping", namespace: Namespace.ping)))
        router.route(XMLElement("iq", ["type": "error", "id": "2", "from": "u@localhost", "to": "gw.localhost"]))
        router.route(XMLElement("message", ["type": "chat", "from": "u@localhost", "to": "gw.localhost"]))
        XCTAssertEqual(sender.sent.count, 1)
        XCTAssertEqual(sender.sent.first?[attribute: "id"], "1")
    }
}
