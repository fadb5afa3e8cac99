import XCTest

@testable import IRCBridge

final class IRCAddressTests: XCTestCase {
    private func parse(_ s: String, fixed: String? = nil, chantypes: String = "#&") throws(IRCAddressError) -> IRCAddress {
        try IRCAddress(localpart: s, fixedServer: fixed, channelTypes: chantypes)
    }

    private func assertRefused(_ s: String, fixed: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let a = try parse(s, fixed: fixed)
            XCTFail("accepted \(a) from \(s.debugDescription)", file: file, line: line)
        } catch {
            // The text is for users: never carries the control characters it complains about.
            XCTAssertFalse(error.text.unicodeScalars.contains { $0.value < 0x20 }, file: file, line: line)
        }
    }

    func testParsesUserChannelServer() throws {
        XCTAssertEqual(try parse("bob%irc.libera.chat"), .user(nick: "bob", server: "irc.libera.chat"))
        XCTAssertEqual(try parse("#swift%irc.libera.chat"), .channel(name: "#swift", server: "irc.libera.chat"))
        XCTAssertEqual(try parse("&local%irc.libera.chat"), .channel(name: "&local", server: "irc.libera.chat"))
        XCTAssertEqual(try parse("irc.libera.chat"), .server("irc.libera.chat"))
        XCTAssertEqual(try parse("127.0.0.1"), .server("127.0.0.1"))
        XCTAssertEqual(try parse("::1"), .server("::1"))
        XCTAssertEqual(try parse("[away]Bob_%irc.example"), .user(nick: "[away]Bob_", server: "irc.example"))
    }

    func testSplitsAtLastPercent() throws {
        XCTAssertEqual(try parse("#50%off%irc.example"), .channel(name: "#50%off", server: "irc.example"))
        // A nick cannot hold `%`, so the left part is refused rather than guessed at.
        assertRefused("bob%x%irc.example")
    }

    func testChannelTypesFromISupport() throws {
        XCTAssertEqual(try parse("+modeless%irc.example", chantypes: "#+"), .channel(name: "+modeless", server: "irc.example"))
        // With CHANTYPES=# a `&` is not a channel prefix, and `&x` is not a nick either.
        XCTAssertThrowsError(try parse("&x%irc.example", chantypes: "#"))
        XCTAssertThrowsError(try parse("+x%irc.example"))
    }

    func testFixedServer() throws {
        let fixed = "irc.libera.chat"
        XCTAssertEqual(try parse("bob", fixed: fixed), .user(nick: "bob", server: fixed))
        XCTAssertEqual(try parse("#swift", fixed: fixed), .channel(name: "#swift", server: fixed))
        XCTAssertEqual(try parse("", fixed: fixed), .server(fixed))
        XCTAssertEqual(try parse("#50%off", fixed: fixed), .channel(name: "#50%off", server: fixed))
        // The full form naming the same server is tolerated; another server is not.
        XCTAssertEqual(try parse("bob%IRC.Libera.Chat", fixed: fixed), .user(nick: "bob", server: fixed))
        assertRefused("bob%irc.oftc.net", fixed: fixed)
        assertRefused("%irc.libera.chat", fixed: fixed)
    }

    func testMissingParts() {
        XCTAssertThrowsError(try parse("")) { XCTAssertEqual($0 as? IRCAddressError, .empty) }
        XCTAssertThrowsError(try parse("#swift")) {
            XCTAssertEqual($0 as? IRCAddressError, .missingServer(name: "#swift"))
        }
        XCTAssertThrowsError(try parse("%irc.example")) {
            XCTAssertEqual($0 as? IRCAddressError, .missingName(server: "irc.example"))
        }
        assertRefused("bob%")
    }

    func testRefusesBadNicks() {
        for nick in [
            "bob smith", "bob,alice", "bob\r\nQUIT", "bob\n", "bob\r", "bo\0b", "bob!x", "bob@h", "bo*",
            "bo?", "b:b", "bob\u{07}", "1bob", "-bob", "bøb", String(repeating: "a", count: 31),
        ] {
            assertRefused(nick + "%irc.example")
            assertRefused(nick, fixed: "irc.example")
        }
        XCTAssertNoThrow(try IRCAddress.validateNick(String(repeating: "a", count: 30)))
        XCTAssertThrowsError(try IRCAddress.validateNick("abcdefghij", maxLength: 9))
        XCTAssertNoThrow(try IRCAddress.validateNick("a-1`^{|}[]\\_"))
    }

    func testRefusesBadChannels() {
        for name in ["#a b", "#a,#b", "#a\r\nJOIN #b", "#a\n", "#a\r", "#a\0", "#a\u{07}", "#", String(repeating: "#", count: 51)] {
            assertRefused(name + "%irc.example")
            assertRefused(name, fixed: "irc.example")
        }
        XCTAssertNoThrow(try IRCAddress.validateChannel("#" + String(repeating: "a", count: 49)))
        // 50 bytes, not 50 characters.
        XCTAssertThrowsError(try IRCAddress.validateChannel("#" + String(repeating: "é", count: 25)))
        XCTAssertNoThrow(try IRCAddress.validateChannel("#café"))
    }

    func testRefusesBadServers() {
        for host in ["irc example", "irc,example", "irc.example\r\n", "irc\0x", "irc..example", ".irc", "irc.", "-irc.x", "irc_x.y", "irc/x",
                     "irc-.x", "irc.-x", "irc.x-", "-", "."] {
            assertRefused("bob%" + host)
        }
        for host in ["a", "irc.example", "irc-1.ex-ample.org", "127.0.0.1", "::1", "fe80::1"] {
            XCTAssertNoThrow(try IRCAddress.validateServer(host), host)
        }
        XCTAssertThrowsError(try IRCAddress.validateServer(String(repeating: "a.", count: 127) + "ab"))
    }

    func testErrorTexts() {
        XCTAssertThrowsError(try parse("bob smith%irc.example")) {
            XCTAssertEqual(($0 as? IRCAddressError)?.text, "“bob smith” is not a valid IRC nick: it contains a space.")
        }
        XCTAssertThrowsError(try parse("#a\r\n%irc.example")) {
            XCTAssertEqual(
                ($0 as? IRCAddressError)?.text,
                "“#aU+000DU+000A” is not a valid IRC channel name: it contains a carriage return.")
        }
    }

    func testCanonicalAndLocalpart() throws {
        let a = try parse("Bob[away]%IRC.Example")
        let b = try parse("bob{away}%irc.example")
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(a.canonical(caseMapping: .rfc1459), b.canonical(caseMapping: .rfc1459))
        XCTAssertEqual(a.canonical(caseMapping: .rfc1459), "bob{away}%irc.example")
        XCTAssertNotEqual(a.canonical(caseMapping: .ascii), b.canonical(caseMapping: .ascii))
        XCTAssertEqual(try parse("#Swift%irc.example").canonical(caseMapping: .ascii), "#swift%irc.example")
        XCTAssertEqual(IRCAddress.server("IRC.Example").canonical(caseMapping: .ascii), "irc.example")

        for s in ["Bob%irc.example", "#50%off%irc.example", "irc.example"] {
            XCTAssertEqual(try parse(s).localpart, s)
            XCTAssertEqual(try parse(try parse(s).localpart), try parse(s))
        }
        XCTAssertEqual(try parse("bob", fixed: "irc.example").localpart, "bob%irc.example")
        XCTAssertEqual(try parse("bob", fixed: "irc.example").localpart(fixedServer: "irc.example"), "bob")
        XCTAssertEqual(try parse("", fixed: "irc.example").localpart(fixedServer: "irc.example"), "")
        XCTAssertEqual(try parse("#a%b", fixed: "irc.example").localpart(fixedServer: "irc.example"), "#a%b")
        XCTAssertEqual(try parse("bob%irc.x").localpart(fixedServer: "irc.example"), "bob%irc.x")
        XCTAssertEqual(try parse("bob%irc.x").name, "bob")
        XCTAssertNil(IRCAddress.server("irc.x").name)
    }

    func testCombiningMarkAfterPercentIsNotHidden() {
        // `%` + U+0301 is one Character; splitting on Characters would not see the `%`.
        assertRefused("bob%\u{301}irc.example")
    }

    /// The split is at the last `%` byte even when a combining mark makes it part of one
    /// Character with what follows.
    func testSplitAtLastPercentSeesAPercentInsideACharacter() {
        let split = IRCAddress.splitAtLastPercent("a%b%\u{301}host")
        XCTAssertEqual(split?.0, "a%b")
        XCTAssertEqual(split?.1, "\u{301}host")
        XCTAssertNil(IRCAddress.splitAtLastPercent("no-percent"))
    }
}
