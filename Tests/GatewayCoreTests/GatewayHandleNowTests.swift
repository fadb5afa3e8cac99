import Logging
import TestSupport
import XCTest
import XMPPCore
@testable import GatewayCore

/// The synchronous path for a lone message (`Gateway.handleNow`): taken only when nothing about
/// the message has to wait, and then the message reaches the bridge's `sendNow` and is
/// remembered for delivery reports; otherwise nothing happens and the async path takes over.
final class GatewayHandleNowTests: XCTestCase {
    private var bridge: SendNowBridge!
    private var gateway: Gateway!

    override func setUp() async throws {
        bridge = SendNowBridge()
        let store = try GatewayStore.inMemory(vault: CredentialVault(key: Array(repeating: 7, count: 32)))
        gateway = Gateway(bridge: bridge, store: store, sender: DiscardingSender(), policy: GatewayPolicy(allowedDomains: ["localhost"]), logger: Logger(label: "test"))
        await gateway.start()
        await gateway.linkEstablished()
    }

    private func stanza(_ xml: String) -> XMPPCore.XMLElement {
        XMPPCore.XMLElement.parse(xml)!
    }

    private func message(to number: String, id: String = "m1") -> XMPPCore.XMLElement {
        stanza("<message type='chat' id='\(id)' from='alice@localhost/phone' to='\(number)@now.localhost'><body>hi</body></message>")
    }

    private func registerAndComeOnline() async {
        await gateway.handle(stanza("<iq type='set' id='r1' from='alice@localhost/phone' to='now.localhost'><query xmlns='jabber:iq:register'><username>alice</username></query></iq>"))
        await gateway.handle(stanza("<presence from='alice@localhost/phone' to='now.localhost'/>"))
    }

    func testNotTakenBeforeTheUserIsRegisteredAndOnline() async {
        var taken = await gateway.handleNow(message(to: "+15550001111"))
        XCTAssertFalse(taken, "not registered")
        await gateway.handle(stanza("<iq type='set' id='r1' from='alice@localhost/phone' to='now.localhost'><query xmlns='jabber:iq:register'><username>alice</username></query></iq>"))
        taken = await gateway.handleNow(message(to: "+15550001111"))
        XCTAssertFalse(taken, "registered, not logged in")
        XCTAssertEqual(bridge.sentNow, [])
    }

    func testTakenWhenNothingWaitsAndTheSendIsRemembered() async {
        await registerAndComeOnline()
        let taken = await gateway.handleNow(message(to: "+15550001111", id: "m7"))
        XCTAssertTrue(taken)
        XCTAssertEqual(bridge.sentNow.map(\.to), ["+15550001111"])
        let remembered = await gateway.recentSends["now-1"]
        XCTAssertEqual(remembered?.xmppID, "m7")
    }

    func testNotTakenWhenTheBridgeMustWaitOrForAnythingButAMessage() async {
        await registerAndComeOnline()
        var taken = await gateway.handleNow(message(to: "+19990001111"))
        XCTAssertFalse(taken, "the bridge cannot send this one now")
        taken = await gateway.handleNow(stanza("<presence from='alice@localhost/laptop' to='now.localhost'/>"))
        XCTAssertFalse(taken)
        taken = await gateway.handleNow(stanza("<message type='chat' id='m2' from='alice@localhost/phone' to='+15550001111@now.localhost'/>"))
        XCTAssertFalse(taken, "no body")
        XCTAssertEqual(bridge.sentNow, [])
    }
}

private struct DiscardingSender: StanzaSender {
    func send(_ element: XMPPCore.XMLElement) -> Bool { true }

    func sendAcknowledged(_ element: XMPPCore.XMLElement, onAcknowledged: @escaping @Sendable () -> Void) -> Bool {
        onAcknowledged()
        return true
    }
}
