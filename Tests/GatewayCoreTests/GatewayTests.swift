import Logging
import NIOConcurrencyHelpers
import XCTest
import XMPPCore
@testable import GatewayCore

/// Records what the gateway sends; acknowledges every acknowledged send at once, as a live link would.
private final class RecordingLink: StanzaSender, Sendable {
    private let box = NIOLockedValueBox<[XMPPCore.XMLElement]>([])
    let up = NIOLockedValueBox(true)

    var sent: [XMPPCore.XMLElement] { box.withLockedValue { $0 } }
    func clear() { box.withLockedValue { $0.removeAll() } }

    func send(_ element: XMPPCore.XMLElement) -> Bool {
        box.withLockedValue { $0.append(element) }
        return true
    }

    func sendAcknowledged(_ element: XMPPCore.XMLElement, onAcknowledged: @escaping @Sendable () -> Void) -> Bool {
        guard up.withLockedValue({ $0 }) else { return false }
        box.withLockedValue { $0.append(element) }
        onAcknowledged()
        return true
    }
}

/// A bridge to a network of numbers, whose sends succeed except to "+1999…".
private actor FakeBridge: Bridge {
    nonisolated let identity = BridgeIdentity(domain: "fake.localhost", name: "Fake", gatewayType: "sms")
    var loggedIn: [String] = []
    var sentTexts: [OutgoingMessage] = []
    var sink: BridgeEventSink?

    nonisolated var registrationFields: [RegistrationField] {
        [RegistrationField("number", label: "Number", legacyElement: "username"), RegistrationField("token", label: "Token", kind: .secret, legacyElement: "password")]
    }
    nonisolated var registrationInstructions: String { "Give your number" }
    nonisolated var contactPrompt: ContactPrompt { ContactPrompt(description: "Number", prompt: "Number") }

    func start(events: BridgeEventSink) async { sink = events }

    func validateRegistration(_ submission: RegistrationSubmission) async throws(RegistrationError) -> RegistrationRecord {
        guard let number = submission.values["number"], number.hasPrefix("+") else {
            throw RegistrationError(field: "number", "Number must start with +")
        }
        return RegistrationRecord(legacyID: number, fields: ["number": number], secrets: ["token": submission.values["token"] ?? ""])
    }

    func logIn(_ account: BridgeAccount) async throws(BridgeError) { loggedIn.append(account.user) }
    func logOut(user: String) async { loggedIn.removeAll { $0 == user } }

    func send(_ message: OutgoingMessage, from account: BridgeAccount) async throws(BridgeError) -> String? {
        if message.to.hasPrefix("+1999") { throw BridgeError(.notAcceptable, "carrier says no") }
        sentTexts.append(message)
        return "legacy-\(sentTexts.count)"
    }

    nonisolated func normalizeAddress(_ input: String) -> Result<String, AddressError> {
        let digits = input.filter(\.isNumber)
        return digits.count >= 8 ? .success("+" + digits) : .failure(AddressError("'\(input)' is not a number"))
    }
}

final class GatewayTests: XCTestCase {
    private var link: RecordingLink!
    private var bridge: FakeBridge!
    private var gateway: Gateway!
    private var store: GatewayStore!

    override func setUp() async throws {
        link = RecordingLink()
        bridge = FakeBridge()
        store = try GatewayStore.inMemory(vault: CredentialVault(key: Array(repeating: 7, count: 32)))
        gateway = Gateway(bridge: bridge, store: store, sender: link, policy: GatewayPolicy(allowedDomains: ["localhost"], admins: ["admin@localhost"]), logger: Logger(label: "test"))
        await gateway.start()
        await gateway.linkEstablished()
        link.clear()
    }

    private func stanza(_ xml: String) -> XMPPCore.XMLElement {
        XMPPCore.XMLElement.parse(xml)!
    }

    private func register(_ user: String = "alice@localhost/phone", number: String = "+15550001111") async {
        await gateway.handle(stanza("<iq type='set' id='r1' from='\(user)' to='fake.localhost'><query xmlns='jabber:iq:register'><username>\(number)</username><password>t0ken</password></query></iq>"))
    }

    private func sent(_ name: String, type: String? = nil) -> [XMPPCore.XMLElement] {
        link.sent.filter { $0.name == name && (type == nil || $0[attribute: "type"] == type) }
    }

    func testRegistrationFormOffersLegacyFieldsAndDataForm() async throws {
        await gateway.handle(stanza("<iq type='get' id='g1' from='alice@localhost/phone' to='fake.localhost'><query xmlns='jabber:iq:register'/></iq>"))
        let query = try XCTUnwrap(sent("iq", type: "result").first?.child("query", namespace: Namespace.register))
        XCTAssertNotNil(query.child("username"))
        XCTAssertNotNil(query.child("password"))
        XCTAssertNil(query.child("registered"))
        let form = try DataForm(element: XCTUnwrap(query.child("x", namespace: Namespace.dataForms)))
        XCTAssertEqual(form.formType, Namespace.register)
        XCTAssertEqual(form[variable: "token"]?.type, .textPrivate)
    }

    func testRegisterSubscribesThenShowsRegisteredWithoutSecrets() async throws {
        await register()
        XCTAssertEqual(sent("iq", type: "result").count, 1)
        let subscribe = try XCTUnwrap(sent("presence", type: "subscribe").first)
        XCTAssertEqual(subscribe[attribute: "to"], "alice@localhost")
        XCTAssertEqual(subscribe[attribute: "from"], "fake.localhost")
        let stored = try await store.registration(bridge: "fake.localhost", user: "alice@localhost")
        XCTAssertEqual(stored?.secrets["token"], "t0ken")

        link.clear()
        await gateway.handle(stanza("<iq type='get' id='g2' from='alice@localhost/laptop' to='fake.localhost'><query xmlns='jabber:iq:register'/></iq>"))
        let query = try XCTUnwrap(sent("iq", type: "result").first?.child("query"))
        XCTAssertNotNil(query.child("registered"))
        XCTAssertEqual(query.childText("username"), "+15550001111")
        XCTAssertEqual(query.childText("password") ?? "", "")
        XCTAssertFalse(XMLSerializer.string(query).contains("t0ken"))
    }

    func testInvalidRegistrationNamesTheFieldAndForeignDomainsAreForbidden() async throws {
        await register(number: "5550001111")
        let error = try XCTUnwrap(StanzaError(stanza: XCTUnwrap(sent("iq", type: "error").first)))
        XCTAssertEqual(error.condition, .notAcceptable)
        XCTAssertEqual(error.text, "Number must start with +")

        link.clear()
        await register("mallory@evil.example/x")
        XCTAssertEqual(StanzaError(stanza: try XCTUnwrap(sent("iq", type: "error").first))?.condition, .forbidden)
    }

    func testTwoUsersCannotClaimOneNumber() async throws {
        await register()
        link.clear()
        await register("bob@localhost/x")
        XCTAssertEqual(StanzaError(stanza: try XCTUnwrap(sent("iq", type: "error").first))?.condition, .conflict)
    }

    func testLoginOnFirstAvailableLogoutAfterLastUnavailable() async throws {
        await register()
        await gateway.handle(stanza("<presence from='alice@localhost/phone' to='fake.localhost'/>"))
        await gateway.handle(stanza("<presence from='alice@localhost/laptop' to='fake.localhost'/>"))
        var loggedIn = await bridge.loggedIn
        XCTAssertEqual(loggedIn, ["alice@localhost"], "one login for two resources")
        await gateway.handle(stanza("<presence type='unavailable' from='alice@localhost/phone' to='fake.localhost'/>"))
        loggedIn = await bridge.loggedIn
        XCTAssertEqual(loggedIn, ["alice@localhost"])
        await gateway.handle(stanza("<presence type='unavailable' from='alice@localhost/laptop' to='fake.localhost'/>"))
        loggedIn = await bridge.loggedIn
        XCTAssertEqual(loggedIn, [])
    }

    func testMessagesBothWaysReceiptsAndRefusals() async throws {
        await register()
        await gateway.handle(stanza("<message type='chat' id='x1' from='alice@localhost/phone' to='+15552223333@fake.localhost'><body>hi</body></message>"))
        let texts = await bridge.sentTexts
        XCTAssertEqual(texts, [OutgoingMessage(to: "+15552223333", body: "hi", xmppID: "x1")])

        link.clear()
        try await gateway.report(.delivery(user: "", legacyMessageID: "legacy-1", outcome: .delivered))
        let receipt = try XCTUnwrap(sent("message").first)
        XCTAssertEqual(receipt.child("received", namespace: Namespace.receipts)?[attribute: "id"], "x1")
        XCTAssertEqual(receipt[attribute: "from"], "+15552223333@fake.localhost")

        link.clear()
        await gateway.handle(stanza("<message type='chat' id='x2' from='alice@localhost/phone' to='+19990001111@fake.localhost'><body>hi</body></message>"))
        let bounce = try XCTUnwrap(sent("message", type: "error").first)
        XCTAssertEqual(bounce[attribute: "id"], "x2")
        XCTAssertEqual(StanzaError(stanza: bounce)?.text, "carrier says no")

        link.clear()
        let account = await gateway.account(forLegacyID: "+15550001111")
        XCTAssertEqual(account?.user, "alice@localhost")
        try await gateway.report(.message(user: "alice@localhost", from: "+15552223333", body: "hello", legacyMessageID: "in-1"))
        try await gateway.report(.message(user: "alice@localhost", from: "+15552223333", body: "hello", legacyMessageID: "in-1"))
        let delivered = sent("message", type: "chat")
        XCTAssertEqual(delivered.count, 1, "a redelivered message is delivered once")
        XCTAssertEqual(delivered.first?[attribute: "to"], "alice@localhost")
        XCTAssertEqual(delivered.first?.childText("body"), "hello")
        // Unknown contact: pushed into the roster by a subscription request (no privilege granted).
        XCTAssertEqual(sent("presence", type: "subscribe").first?[attribute: "from"], "+15552223333@fake.localhost")
        let pending = try await store.pendingCount(bridge: "fake.localhost")
        XCTAssertEqual(pending, 0, "acknowledged messages leave the store")
    }

    func testMessagesWhileTheLinkIsDownWaitInTheStoreAndGoOutInOrder() async throws {
        await register()
        link.up.withLockedValue { $0 = false }
        await gateway.linkLost()
        for index in 1...5 {
            try await gateway.report(.message(user: "alice@localhost", from: "+15552223333", body: "m\(index)", legacyMessageID: "in-\(index)"))
        }
        XCTAssertTrue(sent("message", type: "chat").isEmpty)
        let waiting = try await store.pendingCount(bridge: "fake.localhost")
        XCTAssertEqual(waiting, 5)
        link.up.withLockedValue { $0 = true }
        await gateway.linkEstablished()
        XCTAssertEqual(sent("message", type: "chat").compactMap { $0.childText("body") }, ["m1", "m2", "m3", "m4", "m5"])
    }

    func testUnregisterCleansUp() async throws {
        await register()
        await gateway.handle(stanza("<iq type='set' id='u1' from='alice@localhost/phone' to='fake.localhost'><query xmlns='jabber:iq:register'><remove/></query></iq>"))
        XCTAssertEqual(sent("iq", type: "result").count, 2)
        for type in ["unsubscribe", "unsubscribed", "unavailable"] {
            XCTAssertFalse(sent("presence", type: type).isEmpty, type)
        }
        let stored = try await store.registration(bridge: "fake.localhost", user: "alice@localhost")
        XCTAssertNil(stored)
    }

    func testGatewayQueryTranslatesAndCommandsAreListedByRole() async throws {
        await gateway.handle(stanza("<iq type='set' id='t1' from='alice@localhost/phone' to='fake.localhost'><query xmlns='jabber:iq:gateway'><prompt>+1 (555) 222-3333</prompt></query></iq>"))
        XCTAssertEqual(sent("iq", type: "result").first?.child("query")?.childText("jid"), "+15552223333@fake.localhost")

        link.clear()
        await gateway.handle(stanza("<iq type='get' id='c1' from='alice@localhost/phone' to='fake.localhost'><query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/></iq>"))
        let userNodes = sent("iq").first?.child("query")?.children("item").compactMap { $0[attribute: "node"] }
        XCTAssertEqual(userNodes, ["registration", "unregister"])
        link.clear()
        await gateway.handle(stanza("<iq type='get' id='c2' from='admin@localhost/x' to='fake.localhost'><query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/></iq>"))
        XCTAssertEqual(sent("iq").first?.child("query")?.children("item").count, 5)
    }
}
