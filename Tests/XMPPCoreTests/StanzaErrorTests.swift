import XCTest
import XMPPCore

/// Foundation (re-exported by XCTest on Darwin) has its own XMLElement.
fileprivate typealias XMLElement = XMPPCore.XMLElement

final class StanzaErrorTests: XCTestCase {
    private func xml(_ element: XMLElement) -> String {
        XMLSerializer.string(element, enclosingNamespace: Namespace.component)
    }

    func testServiceUnavailableWithText() {
        let error = StanzaError(.serviceUnavailable, text: "IRC is down")
        XCTAssertEqual(error.type, .cancel)
        XCTAssertEqual(
            xml(error.element),
            "<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                + "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>IRC is down</text></error>")
    }

    func testBareConditionWithBy() {
        let error = StanzaError(.itemNotFound, by: "irc.example.org")
        XCTAssertEqual(
            xml(error.element),
            "<error type='cancel' by='irc.example.org'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>")
    }

    func testExplicitTypeOverridesDefault() {
        let error = StanzaError(.policyViolation, type: .wait)
        XCTAssertEqual(error.type, .wait)
        XCTAssertEqual(StanzaError(element: error.element)?.type, .wait)
    }

    func testTextIsEscaped() {
        let error = StanzaError(.badRequest, text: "a < b & 'c'")
        XCTAssertEqual(
            xml(error.element),
            "<error type='modify'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                + "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>a &lt; b &amp; 'c'</text></error>")
    }

    func testDefaultTypes() {
        let expected: [StanzaError.Condition: StanzaError.ErrorType] = [
            .badRequest: .modify,
            .conflict: .cancel,
            .featureNotImplemented: .cancel,
            .forbidden: .auth,
            .gone: .cancel,
            .internalServerError: .cancel,
            .itemNotFound: .cancel,
            .jidMalformed: .modify,
            .notAcceptable: .modify,
            .notAllowed: .cancel,
            .notAuthorized: .auth,
            .policyViolation: .modify,
            .recipientUnavailable: .wait,
            .redirect: .modify,
            .registrationRequired: .auth,
            .remoteServerNotFound: .cancel,
            .remoteServerTimeout: .wait,
            .resourceConstraint: .wait,
            .serviceUnavailable: .cancel,
            .subscriptionRequired: .auth,
            .undefinedCondition: .cancel,
            .unexpectedRequest: .wait,
        ]
        XCTAssertEqual(StanzaError.Condition.allCases.count, 22)
        XCTAssertEqual(Set(expected.keys), Set(StanzaError.Condition.allCases))
        for (condition, type) in expected {
            XCTAssertEqual(condition.defaultType, type, condition.rawValue)
            XCTAssertEqual(StanzaError(condition).type, type, condition.rawValue)
        }
    }

    func testEveryConditionRoundTrips() throws {
        for condition in StanzaError.Condition.allCases {
            for error in [StanzaError(condition), StanzaError(condition, text: "why", by: "gw.example")] {
                let element = error.element
                let parsed = try XCTUnwrap(StanzaError(element: element), condition.rawValue)
                XCTAssertEqual(parsed, error, condition.rawValue)
                XCTAssertEqual(parsed.element, element, condition.rawValue)
                XCTAssertEqual(element.child(condition.rawValue, namespace: Namespace.stanzaErrors)?.name, condition.rawValue)
            }
        }
    }

    func testEveryTypeRoundTrips() throws {
        for type in StanzaError.ErrorType.allCases {
            let error = StanzaError(.undefinedCondition, type: type)
            XCTAssertEqual(try XCTUnwrap(StanzaError(element: error.element)).type, type)
        }
        XCTAssertEqual(StanzaError.ErrorType.continue.rawValue, "continue")
    }

    func testRedirectCarriesAlternateAddress() throws {
        let error = StanzaError(.redirect, alternateAddress: "xmpp:room@irc.example.org")
        XCTAssertEqual(
            xml(error.element),
            "<error type='modify'><redirect xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>xmpp:room@irc.example.org</redirect></error>")
        XCTAssertEqual(try XCTUnwrap(StanzaError(element: error.element)), error)

        let gone = StanzaError(.gone, alternateAddress: "xmpp:new@example.org")
        XCTAssertEqual(try XCTUnwrap(StanzaError(element: gone.element)).alternateAddress, "xmpp:new@example.org")
    }

    func testAlternateAddressIgnoredForOtherConditions() {
        let error = StanzaError(.forbidden, alternateAddress: "xmpp:elsewhere@example.org")
        XCTAssertEqual(
            xml(error.element),
            "<error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>")
    }

    func testParsesPeerErrorLeniently() throws {
        // Unknown condition, missing type, whitespace around the address of gone, extra children.
        let element = XMLElement(
            "error", namespace: Namespace.client,
            children: [
                .text("\n  "),
                .element(XMLElement("frobnicated", namespace: Namespace.stanzaErrors)),
                .element(.text("text", namespace: Namespace.stanzaErrors, "Oops")),
            ])
        let error = try XCTUnwrap(StanzaError(element: element))
        XCTAssertEqual(error.condition, .undefinedCondition)
        XCTAssertEqual(error.type, .cancel)
        XCTAssertEqual(error.text, "Oops")

        let gone = XMLElement(
            "error", namespace: Namespace.component, ["type": "cancel"],
            children: [.element(.text("gone", namespace: Namespace.stanzaErrors, "\n xmpp:a@b \n"))])
        XCTAssertEqual(StanzaError(element: gone)?.alternateAddress, "xmpp:a@b")

        let empty = XMLElement("error", namespace: Namespace.component, ["type": "bogus"])
        XCTAssertEqual(StanzaError(element: empty), StanzaError(.undefinedCondition))
    }

    func testApplicationConditionRoundTrips() throws {
        let badAction = XMLElement("bad-action", namespace: Namespace.commands)
        let error = StanzaError(.badRequest, text: "no such action", applicationCondition: badAction)
        XCTAssertEqual(
            xml(error.element),
            "<error type='modify'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                + "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>no such action</text>"
                + "<bad-action xmlns='http://jabber.org/protocol/commands'/></error>")
        XCTAssertEqual(try XCTUnwrap(StanzaError(element: error.element)), error)
    }

    func testRejectsOtherElements() {
        XCTAssertNil(StanzaError(element: XMLElement("message", namespace: Namespace.component)))
        XCTAssertNil(StanzaError(element: StreamError(.conflict).element))
    }

    func testErrorFromStanza() throws {
        let stanza = XMLElement(
            "iq", namespace: Namespace.component, ["type": "error", "id": "1"],
            children: [.element(StanzaError(.notAllowed).element)])
        XCTAssertEqual(try XCTUnwrap(StanzaError(stanza: stanza)).condition, .notAllowed)
        XCTAssertNil(StanzaError(stanza: XMLElement("iq", namespace: Namespace.component, ["type": "result"])))
    }

    func testReplyToIQSwapsAddressesAndKeepsPayload() throws {
        let query = XMLElement("query", namespace: Namespace.version)
        let iq = XMLElement(
            "iq", namespace: Namespace.component,
            ["type": "get", "id": "v1", "from": "romeo@example.net/orchard", "to": "irc.example.org"],
            children: [.element(query)])
        let reply = try XCTUnwrap(StanzaError.reply(to: iq, with: StanzaError(.featureNotImplemented)))
        XCTAssertEqual(reply[attribute: "from"], "irc.example.org")
        XCTAssertEqual(reply[attribute: "to"], "romeo@example.net/orchard")
        XCTAssertEqual(reply[attribute: "id"], "v1")
        XCTAssertEqual(reply[attribute: "type"], "error")
        XCTAssertEqual(
            xml(reply),
            "<iq from='irc.example.org' to='romeo@example.net/orchard' type='error' id='v1'>"
                + "<query xmlns='jabber:iq:version'/>"
                + "<error type='cancel'><feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
        XCTAssertEqual(StanzaError(stanza: reply), StanzaError(.featureNotImplemented))
    }

    func testReplyToMessageOmitsPayload() throws {
        let message = XMLElement(
            "message", namespace: Namespace.component,
            ["from": "juliet@example.com/balcony", "to": "#room%irc.net@irc.example.org", "type": "chat", "id": "m1"],
            children: [.element(.text("body", namespace: Namespace.component, "hi"))])
        let reply = try XCTUnwrap(
            StanzaError.reply(to: message, with: StanzaError(.recipientUnavailable, text: "not joined")))
        XCTAssertEqual(
            xml(reply),
            "<message from='#room%irc.net@irc.example.org' to='juliet@example.com/balcony' type='error' id='m1'>"
                + "<error type='wait'><recipient-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                + "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>not joined</text></error></message>")
    }

    func testReplyToPresenceWithoutID() throws {
        let presence = XMLElement("presence", namespace: Namespace.component, ["from": "a@b/c", "to": "gw.example"])
        let reply = try XCTUnwrap(StanzaError.reply(to: presence, with: StanzaError(.registrationRequired)))
        XCTAssertEqual(
            xml(reply),
            "<presence from='gw.example' to='a@b/c' type='error'>"
                + "<error type='auth'><registration-required xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>")
    }

    func testReplyKeepsStanzaNamespace() throws {
        let iq = XMLElement("iq", namespace: Namespace.client, ["type": "set", "id": "x"])
        let reply = try XCTUnwrap(StanzaError.reply(to: iq, with: StanzaError(.forbidden)))
        XCTAssertEqual(reply.namespace, Namespace.client)
        XCTAssertEqual(reply.child("error")?.namespace, Namespace.client)
        XCTAssertEqual(
            XMLSerializer.string(reply, enclosingNamespace: Namespace.client),
            "<iq type='error' id='x'><error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
    }

    func testNoReplyToErrorsOrResults() {
        let error = StanzaError(.serviceUnavailable)
        for name in ["message", "presence", "iq"] {
            let stanza = XMLElement(name, namespace: Namespace.component, ["type": "error", "id": "e", "from": "a@b", "to": "c"])
            XCTAssertNil(StanzaError.reply(to: stanza, with: error), name)
        }
        let result = XMLElement("iq", namespace: Namespace.component, ["type": "result", "id": "r"])
        XCTAssertNil(StanzaError.reply(to: result, with: error))
    }

    func testDescription() {
        XCTAssertEqual(StanzaError(.conflict, text: "nick in use").description, "conflict (cancel): nick in use")
        XCTAssertEqual(StanzaError(.gone).description, "gone (cancel)")
    }
}
