import XCTest
@testable import XMPPCore

fileprivate typealias XMLElement = XMPPCore.XMLElement

final class XMLSerializerTests: XCTestCase {
    func testEscapesTextAndAttributes() {
        let element = XMLElement("message", namespace: Namespace.component, ["to": "a'b\"c<d>&e"], children: [
            .element(.text("body", "x < y & z > w 'q' \"r\"")),
        ])
        XCTAssertEqual(
            XMLSerializer.string(element, enclosingNamespace: Namespace.component),
            "<message to='a&apos;b&quot;c&lt;d&gt;&amp;e'><body>x &lt; y &amp; z &gt; w 'q' \"r\"</body></message>"
        )
    }

    func testNamespaceWrittenOnlyWhereItChanges() {
        let element = XMLElement("iq", namespace: Namespace.component).appending(
            XMLElement("query", namespace: Namespace.discoInfo).appending(XMLElement("feature", namespace: Namespace.discoInfo))
        )
        XCTAssertEqual(
            XMLSerializer.string(element, enclosingNamespace: Namespace.component),
            "<iq><query xmlns='http://jabber.org/protocol/disco#info'><feature/></query></iq>"
        )
        XCTAssertEqual(XMLSerializer.string(XMLElement("a", namespace: "urn:a")), "<a xmlns='urn:a'/>")
    }

    func testCarriageReturnAndControlCharacters() {
        XCTAssertEqual(XMLSerializer.escape("a\rb\nc\td"), "a&#13;b\nc\td")
        XCTAssertEqual(XMLSerializer.escape("a\nb\tc", inAttribute: true), "a&#10;b&#9;c")
        // A control character would make the peer close the whole stream; it becomes U+FFFD.
        XCTAssertEqual(XMLSerializer.escape("a\u{0}b\u{3}c\u{1B}d"), "a\u{FFFD}b\u{FFFD}c\u{FFFD}d")
        XCTAssertEqual(XMLSerializer.escape("\u{FFFE}\u{FFFF}é"), "\u{FFFD}\u{FFFD}é")
    }

    func testStreamNamespaceUsesThePrefix() {
        let error = XMLElement("error", namespace: Namespace.streams).appending(XMLElement("conflict", namespace: Namespace.streamErrors))
        XCTAssertEqual(
            XMLSerializer.string(error, enclosingNamespace: Namespace.component),
            "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
        )
    }

    func testSerializedControlCharactersParseBack() {
        let element = XMLElement.text("body", namespace: Namespace.component, "line1\r\nline2\u{7}")
        let parser = XMLStreamParser()
        let header = "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams'>"
        let events = parser.feed(header + XMLSerializer.string(element, enclosingNamespace: Namespace.component))
        XCTAssertEqual(events.last, .element(.text("body", namespace: Namespace.component, "line1\r\nline2\u{FFFD}")))
    }
}
