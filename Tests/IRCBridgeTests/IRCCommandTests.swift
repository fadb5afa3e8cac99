import XCTest

@testable import IRCBridge

final class IRCCommandTests: XCTestCase {
    private func cmd(_ verb: String, _ params: [String], _ trailing: String? = nil) throws -> String {
        try IRCLineSplitter.command(verb, params, trailing: trailing)
    }

    private func assertRefused(_ verb: String, _ params: [String], _ trailing: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try cmd(verb, params, trailing), "\(verb) \(params) \(String(describing: trailing))", file: file, line: line) {
            XCTAssertNotNil($0 as? IRCLineError, file: file, line: line)
        }
    }

    func testBuildsCommands() throws {
        XCTAssertEqual(try cmd("JOIN", ["#swift"]), "JOIN #swift\r\n")
        XCTAssertEqual(try cmd("JOIN", ["#swift", "key"]), "JOIN #swift key\r\n")
        XCTAssertEqual(try cmd("part", ["#swift"], "bye now"), "PART #swift :bye now\r\n")
        XCTAssertEqual(try cmd("TOPIC", ["#swift"], ""), "TOPIC #swift :\r\n")
        XCTAssertEqual(try cmd("TOPIC", ["#swift"], "Swift: news, links"), "TOPIC #swift :Swift: news, links\r\n")
        XCTAssertEqual(try cmd("KICK", ["#swift", "bob"], "spam"), "KICK #swift bob :spam\r\n")
        XCTAssertEqual(try cmd("NICK", ["alice_"]), "NICK alice_\r\n")
        XCTAssertEqual(try cmd("MODE", ["#swift", "+o", "bob"]), "MODE #swift +o bob\r\n")
        XCTAssertEqual(try cmd("MODE", ["#c", "+f", "[7c#C15,30j]:15"]), "MODE #c +f [7c#C15,30j]:15\r\n")
        XCTAssertEqual(try cmd("INVITE", ["bob", "#swift"]), "INVITE bob #swift\r\n")
        XCTAssertEqual(try cmd("WHOIS", ["bob"]), "WHOIS bob\r\n")
        XCTAssertEqual(try cmd("MONITOR", ["+", "bob,carol"]), "MONITOR + bob,carol\r\n")
        XCTAssertEqual(try cmd("ISON", ["bob", "carol"]), "ISON bob carol\r\n")
        XCTAssertEqual(try cmd("QUIT", [], "Causeway"), "QUIT :Causeway\r\n")
        XCTAssertEqual(try cmd("PONG", [], "token"), "PONG :token\r\n")
        XCTAssertEqual(try cmd("QUIT", []), "QUIT\r\n")
    }

    func testJoinOfTwoChannelsImpossible() {
        assertRefused("JOIN", ["#a,#b"])
        assertRefused("JOIN", ["#a", "key1,key2"])
        assertRefused("PART", ["#a,#b"])
        assertRefused("KICK", ["#a", "bob,carol"])
        assertRefused("WHOIS", ["bob,carol"])
        assertRefused("INVITE", ["bob", "#a,#b"])
        assertRefused("JOIN", ["#a b"])
        assertRefused("JOIN", ["#a\r\nPRIVMSG NickServ :x"])
    }

    func testJoinZeroIsJustAParameter() throws {
        // `JOIN 0` parts every channel; the bridge never passes it, but it is not an injection.
        XCTAssertEqual(try cmd("JOIN", ["0"]), "JOIN 0\r\n")
    }

    func testBadMiddleParametersRefused() {
        for p in ["", "a b", "a\rb", "a\nb", "a\r\nb", "a\0b", ":a", ":\u{301}a"] {
            assertRefused("NICK", [p])
            assertRefused("MODE", ["#c", p])
            assertRefused("MONITOR", ["+", p])
        }
    }

    func testTrailingWithLineBreaksRefused() {
        // Only the trailing may hold spaces; CR/LF/NUL are refused (callers split text first),
        // so a topic or reason can never carry a second command.
        for t in ["new topic\r\nQUIT :bye", "a\nb", "a\rb", "a\0b"] {
            assertRefused("TOPIC", ["#c"], t)
            assertRefused("KICK", ["#c", "bob"], t)
            assertRefused("QUIT", [], t)
        }
        XCTAssertThrowsError(try cmd("TOPIC", ["#c"], "x\r\nQUIT")) {
            XCTAssertEqual($0 as? IRCLineError, .invalidTrailing(reason: "it contains a carriage return"))
        }
    }

    func testBadVerbsRefused() {
        for v in ["", "PRIV MSG", "JOIN\r\n", "J0IN", "1234", "12", ":JOIN", "ÉTÉ"] {
            assertRefused(v, ["#c"])
        }
        XCTAssertEqual(try cmd("001", ["x"]), "001 x\r\n")
    }

    func testLengthAndCountLimits() throws {
        let text = String(repeating: "a", count: 512 - "TOPIC #c :\r\n".utf8.count)
        XCTAssertEqual(try cmd("TOPIC", ["#c"], text).utf8.count, 512)
        XCTAssertThrowsError(try cmd("TOPIC", ["#c"], text + "a")) {
            XCTAssertEqual($0 as? IRCLineError, .lineTooLong(bytes: 513))
        }
        XCTAssertNoThrow(try cmd("ISON", Array(repeating: "n", count: 15)))
        assertRefused("ISON", Array(repeating: "n", count: 16))
        assertRefused("ISON", Array(repeating: "n", count: 15), "x")
    }

    func testErrorDescriptionsHaveNoControls() {
        XCTAssertThrowsError(try cmd("JOIN", ["#a\r\n"])) {
            XCTAssertFalse(String(describing: $0).unicodeScalars.contains { $0.value < 0x20 })
        }
    }
}
