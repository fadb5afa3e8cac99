import XCTest
import XMPPCore

/// Foundation (re-exported by XCTest on Darwin) has its own XMLElement.
fileprivate typealias XMLElement = XMPPCore.XMLElement

final class StreamErrorTests: XCTestCase {
    private func xml(_ element: XMLElement) -> String {
        XMLSerializer.string(element, enclosingNamespace: Namespace.component)
    }

    func testBareCondition() {
        XCTAssertEqual(
            xml(StreamError(.notWellFormed).element),
            "<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>")
    }

    func testWithText() {
        XCTAssertEqual(
            xml(StreamError(.conflict, text: "Replaced by new connection").element),
            "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                + "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>Replaced by new connection</text></stream:error>")
    }

    func testElementShape() {
        let element = StreamError(.hostUnknown).element
        XCTAssertEqual(element.name, "error")
        XCTAssertEqual(element.namespace, Namespace.streams)
        XCTAssertEqual(element.elements.first?.namespace, Namespace.streamErrors)
    }

    func testSeeOtherHost() throws {
        let error = StreamError(.seeOtherHost, otherHost: "[2001:db8::a]:5222")
        XCTAssertEqual(
            xml(error.element),
            "<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>[2001:db8::a]:5222</see-other-host></stream:error>")
        XCTAssertEqual(try XCTUnwrap(StreamError(element: error.element)), error)
        // The host is ignored for other conditions.
        XCTAssertEqual(
            xml(StreamError(.reset, otherHost: "elsewhere").element),
            "<stream:error><reset xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>")
    }

    func testAllConditionsRoundTrip() throws {
        XCTAssertEqual(StreamError.Condition.allCases.count, 25)
        for condition in StreamError.Condition.allCases {
            for error in [StreamError(condition), StreamError(condition, text: "because")] {
                let element = error.element
                let parsed = try XCTUnwrap(StreamError(element: element), condition.rawValue)
                XCTAssertEqual(parsed, error, condition.rawValue)
                XCTAssertEqual(parsed.element, element, condition.rawValue)
                XCTAssertEqual(
                    xml(element).hasPrefix("<stream:error><\(condition.rawValue) xmlns='urn:ietf:params:xml:ns:xmpp-streams'"),
                    true, condition.rawValue)
            }
        }
    }

    func testConditionNames() {
        let names = Set(StreamError.Condition.allCases.map(\.rawValue))
        XCTAssertEqual(
            names,
            [
                "bad-format", "bad-namespace-prefix", "conflict", "connection-timeout", "host-gone", "host-unknown",
                "improper-addressing", "internal-server-error", "invalid-from", "invalid-namespace", "invalid-xml",
                "not-authorized", "not-well-formed", "policy-violation", "remote-connection-failed", "reset",
                "resource-constraint", "restricted-xml", "see-other-host", "system-shutdown", "undefined-condition",
                "unsupported-encoding", "unsupported-feature", "unsupported-stanza-type", "unsupported-version",
            ])
    }

    func testParsesLeniently() throws {
        // Text before the condition, an unknown condition and an application-specific child.
        let element = XMLElement(
            "error", namespace: Namespace.streams,
            children: [
                .element(.text("text", namespace: Namespace.streamErrors, "bye")),
                .element(XMLElement("escape-your-data", namespace: Namespace.streamErrors)),
                .element(XMLElement("appspecific", namespace: "urn:example")),
            ])
        let error = try XCTUnwrap(StreamError(element: element))
        XCTAssertEqual(error.condition, .undefinedCondition)
        XCTAssertEqual(error.text, "bye")
        XCTAssertEqual(StreamError(element: XMLElement("error", namespace: Namespace.streams)), StreamError(.undefinedCondition))
    }

    func testRejectsOtherElements() {
        XCTAssertNil(StreamError(element: XMLElement("error", namespace: Namespace.component)))
        XCTAssertNil(StreamError(element: StanzaError(.conflict).element))
        XCTAssertNil(StreamError(element: XMLElement("features", namespace: Namespace.streams)))
    }

    func testDescription() {
        XCTAssertEqual(StreamError(.systemShutdown).description, "system-shutdown")
        XCTAssertEqual(StreamError(.notAuthorized, text: "bad secret").description, "not-authorized: bad secret")
    }
}
