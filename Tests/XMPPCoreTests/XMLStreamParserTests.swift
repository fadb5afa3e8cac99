import XCTest
@testable import XMPPCore

fileprivate typealias XMLElement = XMPPCore.XMLElement

final class XMLStreamParserTests: XCTestCase {
    static let header = "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' from='irc.localhost' id='abc123'>"

    static let stanzas = [
        "<message to='bob@localhost' from='a%b@irc.localhost' type='chat' id='m1'><body>Hello &amp; &lt;welcome&gt; — héllo 🎉</body></message>",
        "<iq type='get' id='i1' to='irc.localhost' from='bob@localhost/x'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
        "<presence from='bob@localhost/x' to='irc.localhost' xml:lang='en'><show>away</show><status>out &apos;n&apos; about</status></presence>",
        "<message><body><![CDATA[<not markup>]]></body><x xmlns='urn:x' xmlns:p='urn:p' p:attr='v'/></message>",
    ]

    static var wholeStream: String { header + stanzas.joined(separator: " \n") + "</stream:stream>" }

    private func parse(_ chunks: [[UInt8]], limits: XMLStreamParser.Limits = .init()) -> [XMLStreamEvent] {
        let parser = XMLStreamParser(limits: limits)
        return chunks.flatMap { parser.feed($0) }
    }

    private func parse(_ text: String, limits: XMLStreamParser.Limits = .init()) -> [XMLStreamEvent] {
        parse([Array(text.utf8)], limits: limits)
    }

    private func failure(_ events: [XMLStreamEvent]) -> StreamError? {
        if case .failed(let error) = events.last { return error }
        return nil
    }

    func testYieldsHeaderThenEachStanzaThenEnd() throws {
        let events = parse(Self.wholeStream)
        XCTAssertEqual(events.count, 2 + Self.stanzas.count)
        guard case .streamOpened(let header) = events.first else { return XCTFail("no header: \(events)") }
        XCTAssertEqual(header.name, "stream")
        XCTAssertEqual(header.namespace, Namespace.streams)
        XCTAssertEqual(header[attribute: "id"], "abc123")
        XCTAssertEqual(events.last, .streamClosed)

        guard case .element(let message) = events[1] else { return XCTFail() }
        XCTAssertEqual(message.name, "message")
        XCTAssertEqual(message.namespace, Namespace.component)
        XCTAssertEqual(message[attribute: "from"], "a%b@irc.localhost")
        XCTAssertEqual(message.childText("body"), "Hello & <welcome> — héllo 🎉")

        guard case .element(let iq) = events[2] else { return XCTFail() }
        XCTAssertEqual(iq.child("query")?.namespace, Namespace.discoInfo)

        guard case .element(let presence) = events[3] else { return XCTFail() }
        XCTAssertEqual(presence[attribute: "xml:lang"], "en")
        XCTAssertEqual(presence.childText("status"), "out 'n' about")

        guard case .element(let cdata) = events[4] else { return XCTFail() }
        XCTAssertEqual(cdata.childText("body"), "<not markup>")
        let x = try XCTUnwrap(cdata.child("x"))
        XCTAssertEqual(x.namespace, "urn:x")
        XCTAssertEqual(x[attribute: "p:attr"], "v")
        XCTAssertEqual(x[attribute: "xmlns:p"], "urn:p")
    }

    func testSameEventsWhateverTheChunking() {
        let bytes = Array(Self.wholeStream.utf8)
        let expected = parse([bytes])
        // One byte at a time splits every multi-byte UTF-8 character across chunks.
        XCTAssertEqual(parse(bytes.map { [$0] }), expected)
        for size in [2, 3, 7, 64, 1000] {
            let chunks = stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
            XCTAssertEqual(parse(chunks), expected, "chunk size \(size)")
        }
    }

    func testUTF8CharacterSplitAcrossChunks() {
        let prefix = Array((Self.header + "<message><body>").utf8)
        let emoji = Array("🎉".utf8)
        let suffix = Array("</body></message>".utf8)
        let events = parse([prefix + emoji[0..<1], Array(emoji[1..<3]), Array(emoji[3...]) + suffix])
        guard case .element(let message) = events.last else { return XCTFail("\(events)") }
        XCTAssertEqual(message.childText("body"), "🎉")
    }

    func testAttributeEntitiesAreDecoded() {
        let events = parse(Self.header + "<message to='a&amp;b&#38;c&lt;d&#x41;&quot;'/>")
        guard case .element(let message) = events.last else { return XCTFail("\(events)") }
        XCTAssertEqual(message[attribute: "to"], "a&b&c<dA\"")
    }

    func testParsedElementSurvivesSerializationRoundTrip() {
        let events = parse(Self.wholeStream)
        for case .element(let element) in events {
            let again = parse(Self.header + XMLSerializer.string(element, enclosingNamespace: Namespace.component))
            XCTAssertEqual(again.last, .element(element))
        }
    }

    func testWhitespaceBetweenStanzasIsIgnored() {
        let events = parse(Self.header + "   \n  <presence/>  ")
        XCTAssertEqual(events.count, 2)
    }

    // MARK: - Restricted XML

    func testDTDIsRefused() {
        let events = parse("<?xml version='1.0'?><!DOCTYPE stream [<!ENTITY a 'b'>]><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>")
        XCTAssertEqual(failure(events)?.condition, .restrictedXML)
    }

    func testBillionLaughsIsRefusedWithoutExpansion() {
        var dtd = "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
        for level in 1...9 {
            let previous = level == 1 ? "lol" : "lol\(level - 1)"
            dtd += "<!ENTITY lol\(level) '" + String(repeating: "&\(previous);", count: 10) + "'>"
        }
        dtd += "]><lolz>&lol9;</lolz>"
        let events = parse(dtd)
        XCTAssertEqual(events.count, 1)
        XCTAssertEqual(failure(events)?.condition, .restrictedXML)
    }

    func testExternalEntityIsNeverFetched() {
        let xxe = "<?xml version='1.0'?><!DOCTYPE foo [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]>"
            + "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'><message><body>&xxe;</body></message>"
        let events = parse(xxe)
        XCTAssertEqual(failure(events)?.condition, .restrictedXML)
        XCTAssertFalse(events.contains { if case .element = $0 { true } else { false } })
    }

    func testUndeclaredEntityReferenceIsNotWellFormed() {
        let events = parse(Self.header + "<message><body>&xxe;</body></message>")
        XCTAssertNotNil(failure(events))
        XCTAssertFalse(events.contains { if case .element = $0 { true } else { false } })
    }

    func testCommentIsRefused() {
        XCTAssertEqual(failure(parse(Self.header + "<message><!-- hi --></message>"))?.condition, .restrictedXML)
    }

    func testProcessingInstructionIsRefused() {
        XCTAssertEqual(failure(parse(Self.header + "<?evil stuff?><message/>"))?.condition, .restrictedXML)
    }

    // MARK: - Limits

    func testStanzaOverTheSizeLimitIsRefused() {
        let limits = XMLStreamParser.Limits(maxStanzaBytes: 64 * 1024, maxDepth: 64)
        let big = "<message><body>" + String(repeating: "a", count: 100 * 1024) + "</body></message>"
        let events = parse(Self.header + big, limits: limits)
        XCTAssertEqual(failure(events)?.condition, .policyViolation)
        XCTAssertFalse(events.contains { if case .element = $0 { true } else { false } })
    }

    func testOversizedStanzaIsRefusedEvenWhenTrickledIn() {
        let limits = XMLStreamParser.Limits(maxStanzaBytes: 4096, maxDepth: 64)
        let parser = XMLStreamParser(limits: limits)
        _ = parser.feed(Self.header + "<message><body>")
        var events: [XMLStreamEvent] = []
        for _ in 0..<100 where !parser.isFinished {
            events += parser.feed(String(repeating: "b", count: 100))
        }
        XCTAssertEqual(failure(events)?.condition, .policyViolation)
    }

    func testStanzaUnderTheLimitPassesAndTheLimitIsPerStanza() {
        let limits = XMLStreamParser.Limits(maxStanzaBytes: 64 * 1024, maxDepth: 64)
        let stanza = "<message><body>" + String(repeating: "a", count: 40 * 1024) + "</body></message>"
        let events = parse(Self.header + stanza + stanza + stanza, limits: limits)
        XCTAssertEqual(events.count, 4)
        XCTAssertNil(failure(events))
    }

    func testDefaultLimitIs256KiB() {
        XCTAssertEqual(XMLStreamParser.Limits().maxStanzaBytes, 256 * 1024)
    }

    func testDepthLimit() {
        let limits = XMLStreamParser.Limits(maxStanzaBytes: 1 << 20, maxDepth: 8)
        let deep = String(repeating: "<a>", count: 9) + String(repeating: "</a>", count: 9)
        XCTAssertEqual(failure(parse(Self.header + deep, limits: limits))?.condition, .policyViolation)
        let fine = String(repeating: "<a>", count: 8) + String(repeating: "</a>", count: 8)
        XCTAssertNil(failure(parse(Self.header + fine, limits: limits)))
    }

    // MARK: - Malformed input

    func testMalformedXMLEndsTheStream() {
        for junk in ["<message><body></message>", "<message a='1' a='2'/>", "<message>\u{0}</message>", "<<<>", "<m></n>"] {
            let events = parse(Self.header + junk)
            XCTAssertNotNil(failure(events), "accepted \(junk)")
        }
    }

    func testInvalidUTF8EndsTheStream() {
        let events = parse([Array(Self.header.utf8) + Array("<message><body>".utf8) + [0xFF, 0xFE, 0x41] + Array("</body></message>".utf8)])
        XCTAssertEqual(failure(events)?.condition, .notWellFormed)
    }

    func testWrongRootElementIsRefused() {
        XCTAssertEqual(failure(parse("<html><body/></html>"))?.condition, .invalidNamespace)
    }

    func testNothingAfterFailure() {
        let parser = XMLStreamParser()
        _ = parser.feed(Self.header + "<m></n>")
        XCTAssertTrue(parser.isFinished)
        XCTAssertEqual(parser.feed("<message/>"), [])
    }

    func testUndeclaredPrefixIsRefused() {
        XCTAssertNotNil(failure(parse(Self.header + "<foo:bar/>")))
    }

    func testRandomGarbageNeverCrashes() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("<>/='\"&;#x!?[]-: abc\u{0}\u{1}".utf8) + [0xC3, 0xA9, 0xFF]
        for _ in 0..<300 {
            let parser = XMLStreamParser()
            _ = parser.feed(Self.header)
            let garbage = (0..<200).map { _ in alphabet.randomElement(using: &generator)! }
            _ = parser.feed(garbage)
        }
    }
}
