import Logging
import NIOConcurrencyHelpers
import XCTest
import XMPPCore
@testable import GatewayCore

/// Records what the gateway sends.
private final class Recorder: StanzaSender, Sendable {
    private let box = NIOLockedValueBox<[XMPPCore.XMLElement]>([])
    var sent: [XMPPCore.XMLElement] { box.withLockedValue { $0 } }
    func clear() { box.withLockedValue { $0.removeAll() } }
    func send(_ element: XMPPCore.XMLElement) -> Bool {
        box.withLockedValue { $0.append(element) }
        return true
    }
    func sendAcknowledged(_ element: XMPPCore.XMLElement, onAcknowledged: @escaping @Sendable () -> Void) -> Bool {
        box.withLockedValue { $0.append(element) }
        onAcknowledged()
        return true
    }
}

/// A bridge with contact presence, a "stay connected" choice, settings on `hub` and lookups.
private actor PresenceBridge: Bridge {
    nonisolated let identity = BridgeIdentity(domain: "chat.localhost", name: "Chat", gatewayType: "irc")
    var watched: [Set<String>] = []
    var loggedIn: [String] = []

    nonisolated var registrationFields: [RegistrationField] { [RegistrationField("nick", label: "Nick", legacyElement: "nick")] }
    nonisolated var registrationInstructions: String { "Pick a nick" }
    nonisolated var contactPrompt: ContactPrompt { ContactPrompt(description: "Nick", prompt: "Nick") }
    nonisolated var reportsContactPresence: Bool { true }
    nonisolated var canStayConnected: Bool { true }

    func start(events: BridgeEventSink) async {}
    func validateRegistration(_ submission: RegistrationSubmission) async throws(RegistrationError) -> RegistrationRecord {
        RegistrationRecord(legacyID: nil, fields: ["nick": submission.values["nick"] ?? ""])
    }
    func logIn(_ account: BridgeAccount) async throws(BridgeError) { loggedIn.append(account.user) }
    func logOut(user: String) async { loggedIn.removeAll { $0 == user } }
    func send(_ message: OutgoingMessage, from account: BridgeAccount) async throws(BridgeError) -> String? { nil }
    nonisolated func normalizeAddress(_ input: String) -> Result<String, AddressError> { .success(input.lowercased()) }

    func watchContacts(_ addresses: Set<String>, for account: BridgeAccount) async { watched.append(addresses) }

    func lookUpContact(_ address: String, for account: BridgeAccount) async throws(BridgeError) -> ContactProfile {
        guard address == "bob" else { throw BridgeError(.itemNotFound, "No such nick: \(address)") }
        return ContactProfile(name: "bob", category: "client", type: "pc", fullName: "Bob Builder", about: "on #build")
    }

    nonisolated func contactSettingsFields(for address: String) -> [RegistrationField] {
        address == "hub"
            ? [RegistrationField("port", label: "Port", isRequired: false), RegistrationField("password", label: "Password", kind: .secret, isRequired: false)]
            : []
    }

    func validateContactSettings(_ values: [String: String], for address: String) async throws(RegistrationError) -> RegistrationRecord {
        if let port = values["port"], Int(port) == nil { throw RegistrationError(field: "port", "The port must be a number") }
        var fields: [String: String] = [:]
        fields["port"] = values["port"]
        var secrets: [String: String] = [:]
        secrets["password"] = values["password"]
        return RegistrationRecord(legacyID: nil, fields: fields, secrets: secrets)
    }
}

final class GatewayContactTests: XCTestCase {
    private var link: Recorder!
    private var bridge: PresenceBridge!
    private var gateway: Gateway!
    private var store: GatewayStore!

    override func setUp() async throws {
        link = Recorder()
        bridge = PresenceBridge()
        store = try GatewayStore.inMemory(vault: CredentialVault(key: Array(repeating: 9, count: 32)))
        gateway = Gateway(bridge: bridge, store: store, sender: link, policy: GatewayPolicy(allowedDomains: ["localhost"], admins: []), logger: Logger(label: "test"))
        await gateway.start()
        await gateway.linkEstablished()
        await gateway.handle(stanza("<iq type='set' id='r1' from='alice@localhost/a' to='chat.localhost'><query xmlns='jabber:iq:register'><nick>alice</nick></query></iq>"))
        link.clear()
    }

    private func stanza(_ xml: String) -> XMPPCore.XMLElement { XMPPCore.XMLElement.parse(xml)! }

    private func sent(_ name: String, type: String? = nil) -> [XMPPCore.XMLElement] {
        link.sent.filter { $0.name == name && (type == nil || $0[attribute: "type"] == type) }
    }

    private func goOnline() async {
        await gateway.handle(stanza("<presence from='alice@localhost/a' to='chat.localhost'/>"))
    }

    func testRosterIsWatchedAfterLoginAndOnEveryChange() async throws {
        await gateway.handle(stanza("<presence type='subscribe' from='alice@localhost/a' to='bob@chat.localhost'/>"))
        var watched = await bridge.watched
        XCTAssertEqual(watched, [], "nothing is watched before login")
        await goOnline()
        await gateway.handle(stanza("<presence type='subscribe' from='alice@localhost/a' to='carol@chat.localhost'/>"))
        await gateway.handle(stanza("<presence type='unsubscribe' from='alice@localhost/a' to='bob@chat.localhost'/>"))
        watched = await bridge.watched
        XCTAssertEqual(watched, [["bob"], ["bob", "carol"], ["carol"]])
    }

    func testReportedPresenceReachesTheUserAndProbesAnswerWithIt() async throws {
        await gateway.handle(stanza("<presence type='subscribe' from='alice@localhost/a' to='bob@chat.localhost'/>"))
        await goOnline()
        link.clear()
        await gateway.handle(stanza("<presence type='probe' from='alice@localhost/a' to='bob@chat.localhost'/>"))
        XCTAssertEqual(sent("presence", type: "unavailable").count, 1, "a bridge with presence shows unknown contacts offline")

        link.clear()
        try await gateway.report(.presence(user: "alice@localhost", from: "bob", availability: .away(status: "lunch")))
        try await gateway.report(.presence(user: "alice@localhost", from: "bob", availability: .away(status: "lunch")))
        let away = sent("presence")
        XCTAssertEqual(away.count, 1, "an unchanged presence is not repeated")
        XCTAssertEqual(away.first?[attribute: "from"], "bob@chat.localhost")
        XCTAssertEqual(away.first?[attribute: "to"], "alice@localhost")
        XCTAssertEqual(away.first?.childText("show"), "away")
        XCTAssertEqual(away.first?.childText("status"), "lunch")

        link.clear()
        await gateway.handle(stanza("<presence type='unavailable' from='alice@localhost/a' to='chat.localhost'/>"))
        let gone = sent("presence", type: "unavailable").map { $0[attribute: "from"] }
        XCTAssertTrue(gone.contains("bob@chat.localhost"), "contacts go offline with the session: \(gone)")

        link.clear()
        try await gateway.report(.presence(user: "alice@localhost", from: "bob", availability: .available()))
        XCTAssertEqual(sent("presence"), [], "reports after logout are ignored")
    }

    func testStayConnectedIsACoreFieldStoredOnTheRegistration() async throws {
        await gateway.handle(stanza("<iq type='get' id='g' from='alice@localhost/a' to='chat.localhost'><query xmlns='jabber:iq:register'/></iq>"))
        let query = try XCTUnwrap(sent("iq", type: "result").first?.child("query"))
        let form = try DataForm(element: XCTUnwrap(query.child("x", namespace: Namespace.dataForms)))
        XCTAssertEqual(form[variable: "stay_connected"]?.type, .boolean)
        XCTAssertEqual(form[variable: "stay_connected"]?.values, ["0"])

        await gateway.handle(stanza("""
            <iq type='set' id='s' from='alice@localhost/a' to='chat.localhost'><query xmlns='jabber:iq:register'>
            <x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>jabber:iq:register</value></field>
            <field var='nick'><value>alice</value></field><field var='stay_connected'><value>true</value></field></x></query></iq>
            """))
        let stored = try await store.registration(bridge: "chat.localhost", user: "alice@localhost")
        XCTAssertEqual(stored?.staysConnected, true)
        XCTAssertNil(stored?.fields["stay_connected"], "the bridge never sees the core's field")

        await goOnline()
        await gateway.handle(stanza("<presence type='unavailable' from='alice@localhost/a' to='chat.localhost'/>"))
        let loggedIn = await bridge.loggedIn
        XCTAssertEqual(loggedIn, ["alice@localhost"], "still connected after the last resource left")
    }

    func testVCardComesFromTheNetworkAndUnknownContactsAreNotFound() async throws {
        await gateway.handle(stanza("<iq type='get' id='v1' from='alice@localhost/a' to='bob@chat.localhost'><vCard xmlns='vcard-temp'/></iq>"))
        let vcard = try XCTUnwrap(sent("iq", type: "result").first?.child("vCard", namespace: Namespace.vcard))
        XCTAssertEqual(vcard.childText("FN"), "Bob Builder")
        XCTAssertEqual(vcard.childText("NICKNAME"), "bob")
        XCTAssertEqual(vcard.childText("DESC"), "on #build")

        link.clear()
        await gateway.handle(stanza("<iq type='get' id='v2' from='alice@localhost/a' to='zed@chat.localhost'><vCard xmlns='vcard-temp'/></iq>"))
        let error = try XCTUnwrap(StanzaError(stanza: XCTUnwrap(sent("iq", type: "error").first)))
        XCTAssertEqual(error.condition, .itemNotFound)
        XCTAssertEqual(error.text, "No such nick: zed")
    }

    func testConfigureCommandOnAContactStoresSettingsAndKeepsSecrets() async throws {
        await gateway.handle(stanza("<iq type='get' id='i' from='alice@localhost/a' to='bob@chat.localhost'><query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/></iq>"))
        XCTAssertEqual(sent("iq", type: "result").first?.child("query")?.elements.count, 0, "bob has no settings")

        link.clear()
        await gateway.handle(stanza("<iq type='get' id='i' from='alice@localhost/a' to='hub@chat.localhost'><query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/></iq>"))
        let item = try XCTUnwrap(sent("iq", type: "result").first?.child("query")?.elements.first)
        XCTAssertEqual(item[attribute: "node"], "configure")
        XCTAssertEqual(item[attribute: "jid"], "hub@chat.localhost")

        func submit(port: String, password: String) async {
            await gateway.handle(stanza("""
                <iq type='set' id='c' from='alice@localhost/a' to='hub@chat.localhost'><command xmlns='http://jabber.org/protocol/commands' node='configure' sessionid='s1'>
                <x xmlns='jabber:x:data' type='submit'><field var='port'><value>\(port)</value></field><field var='password'><value>\(password)</value></field></x></command></iq>
                """))
        }
        link.clear()
        await submit(port: "6697", password: "hunter2")
        XCTAssertEqual(sent("iq", type: "result").first?.child("command")?[attribute: "status"], "completed")
        await submit(port: "7000", password: "")
        let stored = await gateway.contactSettings(user: "alice@localhost", address: "hub")
        XCTAssertEqual(stored?.fields["port"], "7000")
        XCTAssertEqual(stored?.secrets["password"], "hunter2", "an empty secret keeps the stored one")

        link.clear()
        await submit(port: "sixty", password: "")
        let error = try XCTUnwrap(StanzaError(stanza: XCTUnwrap(sent("iq", type: "error").first)))
        XCTAssertEqual(error.condition, .notAcceptable)
        XCTAssertEqual(error.text, "The port must be a number")

        link.clear()
        await gateway.handle(stanza("<iq type='set' id='c' from='alice@localhost/a' to='hub@chat.localhost'><command xmlns='http://jabber.org/protocol/commands' node='configure'/></iq>"))
        let form = try DataForm(element: XCTUnwrap(sent("iq", type: "result").first?.child("command")?.child("x", namespace: Namespace.dataForms)))
        XCTAssertEqual(form[variable: "port"]?.values, ["7000"])
        XCTAssertEqual(form[variable: "password"]?.values ?? [], [], "secrets are never shown")
    }

    func testAfterARestartContactsAndSettingsComeFromTheStore() async throws {
        await gateway.handle(stanza("<presence type='subscribe' from='alice@localhost/a' to='bob@chat.localhost'/>"))
        try await store.saveContactSettings(RegistrationRecord(legacyID: nil, fields: ["port": "7000"]), bridge: "chat.localhost", user: "alice@localhost", address: "hub")
        let stored = try await store.user(bridge: "chat.localhost", user: "alice@localhost")
        XCTAssertEqual(stored?.registration.fields["nick"], "alice")
        XCTAssertEqual(stored?.contactAddresses, ["bob"])
        XCTAssertEqual(stored?.configuredAddresses, ["hub"])
        let missing = try await store.user(bridge: "chat.localhost", user: "nobody@localhost")
        XCTAssertNil(missing)

        // A new gateway on the same store: the first stanza loads the user once, and what it
        // loaded answers the bridge's questions.
        let restarted = Gateway(bridge: bridge, store: store, sender: link, policy: GatewayPolicy(allowedDomains: ["localhost"], admins: []), logger: Logger(label: "test"))
        await restarted.start()
        await restarted.linkEstablished()
        await restarted.handle(stanza("<presence from='alice@localhost/a' to='chat.localhost'/>"))
        let watched = await bridge.watched
        XCTAssertEqual(watched.last, ["bob"])
        let hub = await restarted.contactSettings(user: "alice@localhost", address: "hub")
        XCTAssertEqual(hub?.fields["port"], "7000")
        let bob = await restarted.contactSettings(user: "alice@localhost", address: "bob")
        XCTAssertNil(bob)
    }
}
