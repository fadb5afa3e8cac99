import XCTest

@testable import IRCBridge

final class IRCMessageTests: XCTestCase {
    func testNumericFromServer() throws {
        let m = try XCTUnwrap(IRCMessage(line: ":irc.example 001 nick :Welcome to the network\r\n"))
        XCTAssertEqual(m.prefix, .init(nick: "irc.example"))
        XCTAssertTrue(m.prefix!.isServer)
        XCTAssertEqual(m.command, "001")
        XCTAssertEqual(m.numeric, 1)
        XCTAssertEqual(m.params, ["nick", "Welcome to the network"])
        XCTAssertEqual(m.trailing, "Welcome to the network")
    }

    func testPrivmsgFromUser() throws {
        let m = try XCTUnwrap(IRCMessage(line: ":nick!u@h PRIVMSG #c :hi there"))
        XCTAssertEqual(m.prefix, .init(nick: "nick", user: "u", host: "h"))
        XCTAssertFalse(m.prefix!.isServer)
        XCTAssertEqual(m.prefix?.raw, "nick!u@h")
        XCTAssertEqual(m.command, "PRIVMSG")
        XCTAssertNil(m.numeric)
        XCTAssertEqual(m.params, ["#c", "hi there"])
        XCTAssertEqual(m.tags, [:])
    }

    func testTags() throws {
        let m = try XCTUnwrap(IRCMessage(line: "@time=2024-01-02T03:04:05.678Z;account=bob;+draft/x=a\\sb\\:c\\\\d;flag :n!u@h PRIVMSG x :y"))
        XCTAssertEqual(m.tags["time"], "2024-01-02T03:04:05.678Z")
        XCTAssertEqual(m.tags["account"], "bob")
        XCTAssertEqual(m.tags["+draft/x"], "a b;c\\d")
        XCTAssertEqual(m.tags["flag"], "")
        XCTAssertEqual(m.prefix?.nick, "n")
        XCTAssertEqual(m.command, "PRIVMSG")
        XCTAssertEqual(m.params, ["x", "y"])
        XCTAssertEqual(IRCMessage.unescapeTagValue("a\\"), "a")
        XCTAssertEqual(IRCMessage.unescapeTagValue("\\r\\n\\q"), "\r\nq")
    }

    func testPingAndLowercaseCommands() throws {
        XCTAssertEqual(IRCMessage(line: "PING :token"), IRCMessage(command: "PING", params: ["token"]))
        XCTAssertEqual(IRCMessage(line: "ping token")?.command, "PING")
        XCTAssertEqual(IRCMessage(line: "PING :")?.params, [""])
    }

    func testParamShapes() throws {
        XCTAssertEqual(IRCMessage(line: ":s 353 me = #c :@op +voice plain")?.params, ["me", "=", "#c", "@op +voice plain"])
        XCTAssertEqual(IRCMessage(line: ":n!u@h JOIN #c")?.params, ["#c"])
        XCTAssertEqual(IRCMessage(line: ":n!u@h MODE #c +o  bob ")?.params, ["#c", "+o", "bob"])
        XCTAssertEqual(IRCMessage(line: ":n!u@h PRIVMSG #c ::-) a :b")?.params, ["#c", ":-) a :b"])
        XCTAssertEqual(IRCMessage(line: ":n!u@h QUIT")?.params, [])
        XCTAssertEqual(IRCMessage(line: ":n@h AWAY :gone")?.prefix, .init(nick: "n", user: nil, host: "h"))
        XCTAssertEqual(IRCMessage(line: "  :s   NOTICE   *   :x\n")?.params, ["*", "x"])
        XCTAssertEqual(IRCMessage(line: ":n!u@h PRIVMSG #c :caf\u{e9} \u{301}x")?.params, ["#c", "caf\u{e9} \u{301}x"])
        // A space followed by a combining mark still separates parameters.
        XCTAssertEqual(IRCMessage(line: ":n!u@h PRIVMSG #c \u{301}x")?.params, ["#c", "\u{301}x"])
    }

    func testBytesWithLatin1() throws {
        let m = try XCTUnwrap(IRCMessage(bytes: Array(":n!u@h PRIVMSG #c :Gr".utf8) + [0xFC, 0xDF, 0x65, 0x0D, 0x0A]))
        XCTAssertEqual(m.params, ["#c", "Grüße"])
    }

    func testJunkGivesNil() {
        for junk in [
            "", "\r\n", "   ", ":", ": PRIVMSG x :y", ":prefixonly", "@", "@ PRIVMSG x", "@a=b", ":n!u@h", ":!u@h PRIVMSG x",
            "12 x", "1234 x", "PRIV-MSG x", "PRIVMSG1 x", ":n 0x1 y", "\u{0}", "\u{1}\u{2}\u{3}", "😀 x", ":n!u@h :trailing-as-command",
        ] {
            XCTAssertNil(IRCMessage(line: junk), junk.debugDescription)
        }
    }

    func testNeverCrashesOnRandomInput() {
        var rng = SplitMix(seed: 42)
        let alphabet: [UInt8] = Array(" :@!;=\\#\r\n\0aZ09".utf8) + [0xC3, 0xA9, 0xFF, 0x01]
        for _ in 0..<5000 {
            let len = Int(rng.next() % 40)
            let bytes = (0..<len).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            if let m = IRCMessage(bytes: bytes) {
                XCTAssertFalse(m.command.isEmpty)
            }
        }
    }
}

/// A small deterministic generator, so the fuzz test is reproducible.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
