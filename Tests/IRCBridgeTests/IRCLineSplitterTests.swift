import XCTest

@testable import IRCBridge

final class IRCLineSplitterTests: XCTestCase {
    let prefix = ":alice!~alice@user/alice/x-123456".utf8.count
    var splitter: IRCLineSplitter { IRCLineSplitter(prefixLength: prefix) }

    /// Every line: one CR LF at its end and nowhere else, no NUL, no other control except the
    /// CTCP framing byte, fits 512 bytes with the prefix, and is one valid PRIVMSG/NOTICE.
    private func assertSafe(_ lines: [String], prefixLength: Int, target: String, file: StaticString = #filePath, line: UInt = #line) {
        for l in lines {
            let bytes = Array(l.utf8)
            XCTAssertEqual(bytes.suffix(2), [0x0D, 0x0A], file: file, line: line)
            let body = bytes.dropLast(2)
            XCTAssertFalse(body.contains(0x0D) || body.contains(0x0A) || body.contains(0), "line break inside \(l.debugDescription)", file: file, line: line)
            XCTAssertFalse(body.contains { $0 < 0x20 && $0 != 0x01 }, file: file, line: line)
            XCTAssertLessThanOrEqual(prefixLength + 1 + bytes.count, 512, file: file, line: line)
            XCTAssertNotNil(String(validating: bytes, as: UTF8.self), "split inside a scalar", file: file, line: line)
            let parsed = IRCMessage(line: l)
            XCTAssertNotNil(parsed, file: file, line: line)
            XCTAssertEqual(parsed?.params.count, 2, file: file, line: line)
            XCTAssertEqual(parsed?.params.first, target, file: file, line: line)
        }
    }

    private func texts(_ lines: [String]) -> [String] {
        lines.map { IRCMessage(line: $0)!.params[1] }
    }

    func testSimpleMessage() throws {
        XCTAssertEqual(try splitter.lines(target: "#swift", body: "hi there"), ["PRIVMSG #swift :hi there\r\n"])
        XCTAssertEqual(try splitter.lines(.notice, target: "bob", body: "hi"), ["NOTICE bob :hi\r\n"])
        XCTAssertEqual(try splitter.lines(target: "bob", body: ":starts with colon"), ["PRIVMSG bob ::starts with colon\r\n"])
    }

    func testLineBreaksBecomeSeparateMessages() throws {
        for body in ["one\ntwo", "one\r\ntwo", "one\rtwo", "one\n\n\r\n\rtwo\n", "\r\none\r\r\ntwo\r"] {
            let lines = try splitter.lines(target: "#c", body: body)
            XCTAssertEqual(lines, ["PRIVMSG #c :one\r\n", "PRIVMSG #c :two\r\n"], body.debugDescription)
            assertSafe(lines, prefixLength: prefix, target: "#c")
        }
    }

    func testInjectionAttemptsStayText() throws {
        let body = "hello\r\nQUIT :pwned\rJOIN #evil\nPRIVMSG NickServ :DROP\0\r\n"
        let lines = try splitter.lines(target: "#c", body: body)
        XCTAssertEqual(lines.count, 4)
        assertSafe(lines, prefixLength: prefix, target: "#c")
        // Each piece is the text of a PRIVMSG to #c, never a command of its own.
        XCTAssertEqual(texts(lines), ["hello", "QUIT :pwned", "JOIN #evil", "PRIVMSG NickServ :DROP"])
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("PRIVMSG #c :") })
    }

    func testControlsRemoved() throws {
        var body = ""
        for v in 0..<0x20 where v != 0x0A && v != 0x0D { body.unicodeScalars.append(Unicode.Scalar(UInt8(v))) }
        body += "\u{7F}x\u{02}bold\u{02} \u{03}4red\u{0F}"
        let lines = try splitter.lines(target: "bob", body: body)
        // TAB became a space; the colour code's digits are ordinary text once \x03 is gone.
        XCTAssertEqual(lines, ["PRIVMSG bob : xbold 4red\r\n"])
        assertSafe(lines, prefixLength: prefix, target: "bob")
        XCTAssertEqual(try splitter.lines(target: "bob", body: "\0\u{01}\u{07}\r\n"), [])
        XCTAssertEqual(try splitter.lines(target: "bob", body: ""), [])
        // A user-typed \x01 cannot forge a CTCP.
        XCTAssertEqual(try splitter.lines(target: "bob", body: "\u{01}VERSION\u{01}"), ["PRIVMSG bob :VERSION\r\n"])
    }

    func testAction() throws {
        XCTAssertEqual(try splitter.lines(target: "#c", body: "/me waves"), ["PRIVMSG #c :\u{01}ACTION waves\u{01}\r\n"])
        XCTAssertEqual(
            try splitter.lines(target: "#c", body: "/me waves\nand smiles"),
            ["PRIVMSG #c :\u{01}ACTION waves\u{01}\r\n", "PRIVMSG #c :\u{01}ACTION and smiles\u{01}\r\n"])
        XCTAssertEqual(try splitter.lines(target: "#c", body: "/mention"), ["PRIVMSG #c :/mention\r\n"])
        XCTAssertEqual(try splitter.lines(target: "#c", body: " /me x"), ["PRIVMSG #c : /me x\r\n"])

        let long = String(repeating: "word ", count: 300)
        let lines = try splitter.lines(target: "#c", body: "/me " + long)
        XCTAssertGreaterThan(lines.count, 1)
        assertSafe(lines, prefixLength: prefix, target: "#c")
        var joined = ""
        for t in texts(lines) {
            guard case .action(let text) = CTCPMessage.parse(t) else { return XCTFail("not framed: \(t)") }
            XCTAssertTrue(t.hasPrefix("\u{01}ACTION ") && t.hasSuffix("\u{01}"))
            joined += text
        }
        XCTAssertEqual(joined, long)
    }

    private func checkLong(_ body: String, prefixLength: Int, target: String = "#swift", file: StaticString = #filePath, line: UInt = #line) throws {
        let s = IRCLineSplitter(prefixLength: prefixLength)
        let lines = try s.lines(target: target, body: body)
        XCTAssertGreaterThan(lines.count, 1, file: file, line: line)
        assertSafe(lines, prefixLength: prefixLength, target: target, file: file, line: line)
        XCTAssertEqual(texts(lines).joined(), body, file: file, line: line)
        // Chunks are full: all but the last use at least 3/4 of the room (the space rule).
        let room = 512 - prefixLength - 1 - "PRIVMSG \(target) :\r\n".utf8.count
        for l in lines.dropLast() {
            XCTAssertGreaterThanOrEqual(IRCMessage(line: l)!.params[1].utf8.count * 4, room * 3, file: file, line: line)
        }
    }

    func testLongASCII() throws {
        try checkLong(String(repeating: "a", count: 2000), prefixLength: prefix)
        try checkLong(String(repeating: "abc def ", count: 250), prefixLength: prefix)
        let lines = try splitter.lines(target: "#swift", body: String(repeating: "a", count: 2000))
        // Exactly 512 bytes on the wire as relayed: no byte wasted without a space to prefer.
        XCTAssertEqual(prefix + 1 + lines[0].utf8.count, 512)
    }

    func testLongEmoji() throws {
        try checkLong(String(repeating: "😀", count: 500), prefixLength: prefix)
        // Multi-scalar grapheme clusters (family, flags) stay whole.
        let family = "👨‍👩‍👧‍👦"
        let body = String(repeating: family, count: 120)
        try checkLong(body, prefixLength: prefix)
        for t in texts(try splitter.lines(target: "#swift", body: body)) {
            XCTAssertEqual(t.count * family.utf8.count, t.utf8.count, "a cluster was cut")
        }
        try checkLong(String(repeating: "🇫🇷", count: 300), prefixLength: prefix)
    }

    func testLongMixed() throws {
        let body = String(repeating: "Grüße, 世界! 😀 naïve café — ", count: 60)
        try checkLong(body, prefixLength: prefix)
        try checkLong(body, prefixLength: IRCLineSplitter.defaultPrefixLength(nick: "alice"))
        try checkLong(body, prefixLength: 0)
        try checkLong(body, prefixLength: 300, target: "#a-rather-long-channel-name")
    }

    func testPrefersLastSpaceInLastQuarter() throws {
        let room = 512 - prefix - 1 - "PRIVMSG #c :\r\n".utf8.count
        // A space at 90% of the room: the cut goes right after it.
        let first = String(repeating: "x", count: room * 9 / 10)
        let body = first + " " + String(repeating: "y", count: room)
        let t = texts(try splitter.lines(target: "#c", body: body))
        XCTAssertEqual(t[0], first + " ")
        XCTAssertTrue(t[1].allSatisfy { $0 == "y" })
        // A space at 50%: ignored, the chunk is filled.
        let half = String(repeating: "x", count: room / 2)
        let t2 = texts(try splitter.lines(target: "#c", body: half + " " + String(repeating: "y", count: room)))
        XCTAssertEqual(t2[0].utf8.count, room)
    }

    func testHugeGraphemeClusterIsCutBetweenScalars() throws {
        let zalgo = "a" + String(repeating: "\u{301}", count: 400)  // one Character, 801 bytes
        XCTAssertEqual(zalgo.count, 1)
        let lines = try splitter.lines(target: "#c", body: zalgo)
        assertSafe(lines, prefixLength: prefix, target: "#c")
        XCTAssertEqual(texts(lines).joined(), zalgo)
    }

    func testChunksDirectly() {
        XCTAssertEqual(IRCLineSplitter.chunks(of: "", maxBytes: 10), [])
        XCTAssertEqual(IRCLineSplitter.chunks(of: "abc", maxBytes: 10), ["abc"])
        XCTAssertEqual(IRCLineSplitter.chunks(of: "aaaa bbbb cccc", maxBytes: 10), ["aaaa bbbb ", "cccc"])
        XCTAssertEqual(IRCLineSplitter.chunks(of: "😀😀😀", maxBytes: 5), ["😀", "😀", "😀"])
        XCTAssertEqual(IRCLineSplitter.chunks(of: "aé😀", maxBytes: 4), ["aé", "😀"])
    }

    func testMessagesDirectly() {
        XCTAssertEqual(IRCLineSplitter.messages(in: "a\r\n\r\nb\tc\u{0}"), ["a", "b c"])
        XCTAssertEqual(IRCLineSplitter.messages(in: "   "), ["   "])
    }

    func testDefaultPrefixLength() {
        XCTAssertEqual(IRCLineSplitter.defaultPrefixLength(nick: "alice"), 1 + 5 + 1 + 10 + 1 + 63)
        XCTAssertEqual(IRCLineSplitter(nick: "alice").prefixLength, 81)
    }

    func testBadTargetsRefused() {
        for target in ["", "#a b", "#a,#b", "bob,alice", "#a\r\nQUIT", "bob\n", "bob\r", "bo\0b", ":bob", ":\u{301}bob"] {
            XCTAssertThrowsError(try splitter.lines(target: target, body: "hi"), target.debugDescription) {
                XCTAssertNotNil($0 as? IRCLineError)
            }
        }
    }

    func testTargetTooLongForAnyText() {
        let s = IRCLineSplitter(prefixLength: 490)
        XCTAssertThrowsError(try s.lines(target: "#channel", body: "hi")) {
            guard case .lineTooLong = $0 as? IRCLineError else { return XCTFail("\($0)") }
        }
    }
}
