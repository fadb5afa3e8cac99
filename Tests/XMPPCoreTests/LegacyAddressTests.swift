import XCTest
@testable import XMPPCore

final class LegacyAddressTests: XCTestCase {
    // MARK: Reading a localpart

    func testIRCChannel() {
        let address = LegacyAddress(localpart: "#swift%irc.libera.chat")
        XCTAssertEqual(address?.legacy, "#swift")
        XCTAssertEqual(address?.host, "irc.libera.chat")
    }

    func testSplitsAtTheLastPercent() {
        XCTAssertEqual(LegacyAddress(localpart: "we%ird%irc.example"), LegacyAddress(legacy: "we%ird", host: "irc.example"))
        XCTAssertEqual(LegacyAddress(localpart: "#100%%irc.example"), LegacyAddress(legacy: "#100%", host: "irc.example"))
        XCTAssertEqual(LegacyAddress(localpart: "a%b%c%d.example"), LegacyAddress(legacy: "a%b%c", host: "d.example"))
    }

    func testUserAtHost() {
        XCTAssertEqual(LegacyAddress(localpart: "alice%example.com"), LegacyAddress(legacy: "alice", host: "example.com"))
    }

    func testNoPercentMeansNoHost() {
        let sms = LegacyAddress(localpart: "+15551234567")
        XCTAssertEqual(sms?.legacy, "+15551234567")
        XCTAssertNil(sms?.host)
    }

    func testLocalpartIsUnescapedBeforeSplitting() {
        XCTAssertEqual(
            LegacyAddress(localpart: #"o\27brien%example.com"#),
            LegacyAddress(legacy: "o'brien", host: "example.com")
        )
        // A whole mail address as the legacy identity, on a host-less network.
        XCTAssertEqual(LegacyAddress(localpart: #"o\27brien\40x"#), LegacyAddress(legacy: "o'brien@x", host: nil))
        XCTAssertEqual(
            LegacyAddress(localpart: #"bob\40mail.example%smtp.example"#),
            LegacyAddress(legacy: "bob@mail.example", host: "smtp.example")
        )
    }

    func testEmptyPiecesAreRejected() {
        XCTAssertNil(LegacyAddress(localpart: ""))
        XCTAssertNil(LegacyAddress(localpart: "%irc.example"))
        XCTAssertNil(LegacyAddress(localpart: "alice%"))
        XCTAssertNil(LegacyAddress(localpart: "%"))
    }

    func testFromJID() throws {
        let jid = try JID("#swift%irc.libera.chat@irc.gateway.example/nick")
        XCTAssertEqual(LegacyAddress(jid: jid), LegacyAddress(legacy: "#swift", host: "irc.libera.chat"))
        XCTAssertNil(LegacyAddress(jid: try JID("irc.gateway.example")))
    }

    func testLegacyComesBackLowercaseFromAJID() throws {
        // RFC 7622 case mapping lowercases localparts; the original case is lost.
        let jid = try LegacyAddress(legacy: "Alice", host: "Example.COM").jid(domain: "gw.example")
        XCTAssertEqual(jid.localpart, "alice%example.com")
        XCTAssertEqual(LegacyAddress(jid: jid), LegacyAddress(legacy: "alice", host: "example.com"))
    }

    // MARK: Composing a localpart

    func testLocalpartComposition() {
        XCTAssertEqual(LegacyAddress(legacy: "#swift", host: "irc.libera.chat").localpart, "#swift%irc.libera.chat")
        XCTAssertEqual(LegacyAddress(legacy: "+15551234567").localpart, "+15551234567")
        XCTAssertEqual(LegacyAddress(legacy: "we%ird", host: "irc.example").localpart, "we%ird%irc.example")
    }

    func testLocalpartIsEscaped() {
        XCTAssertEqual(LegacyAddress(legacy: "o'brien", host: "x").localpart, #"o\27brien%x"#)
        XCTAssertEqual(LegacyAddress(legacy: "o'brien@x").localpart, #"o\27brien\40x"#)
        XCTAssertEqual(LegacyAddress(legacy: "space cadet", host: "h").localpart, #"space\20cadet%h"#)
        XCTAssertEqual(LegacyAddress(legacy: #"nick\3a"#, host: "h").localpart, #"nick\5c3a%h"#)
    }

    func testJID() throws {
        let address = LegacyAddress(legacy: "o'brien", host: "example.com")
        XCTAssertEqual(try address.jid(domain: "mail.gw.example").description, #"o\27brien%example.com@mail.gw.example"#)
        XCTAssertEqual(
            try address.jid(domain: "mail.gw.example", resource: "Inbox").description,
            #"o\27brien%example.com@mail.gw.example/Inbox"#
        )
    }

    func testJIDFailsForWhatEscapingCannotCarry() {
        XCTAssertThrowsError(try LegacyAddress(legacy: "tab\there").jid(domain: "gw.example")) { error in
            XCTAssertEqual(error as? JIDError, .forbiddenCharacter(part: .localpart, character: "\t"))
        }
        XCTAssertThrowsError(try LegacyAddress(legacy: "").jid(domain: "gw.example")) { error in
            XCTAssertEqual(error as? JIDError, .emptyLocalpart)
        }
        XCTAssertThrowsError(try LegacyAddress(legacy: String(repeating: "'", count: 400)).jid(domain: "gw")) { error in
            XCTAssertEqual(error as? JIDError, .tooLong(part: .localpart))
        }
    }

    // MARK: Round trips

    func testRoundTripThroughLocalpart() {
        let addresses = [
            LegacyAddress(legacy: "#swift", host: "irc.libera.chat"),
            LegacyAddress(legacy: "we%ird", host: "irc.example"),
            LegacyAddress(legacy: "O'Brien@Mail", host: "smtp.example"),
            LegacyAddress(legacy: #"c:\5commas"#, host: "h"),
            LegacyAddress(legacy: "+15551234567"),
            LegacyAddress(legacy: " leading and trailing ", host: "h"),
        ]
        for address in addresses {
            XCTAssertEqual(LegacyAddress(localpart: address.localpart), address, "via \(address.localpart)")
        }
    }

    func testRoundTripThroughJIDOverRandomAddresses() throws {
        let legacyAlphabet: [Character] = Array(#"aZ09 "&'/:<>@\\%#!+_.é"#)
        let hostAlphabet: [Character] = Array("abcXYZ019-.")
        var random = JIDTestRandomGenerator(seed: 7622)
        for _ in 0..<3_000 {
            let legacy = String((0..<Int.random(in: 1...10, using: &random)).map { _ in
                legacyAlphabet.randomElement(using: &random)!
            })
            let host = String((0..<Int.random(in: 1...10, using: &random)).map { _ in
                hostAlphabet.randomElement(using: &random)!
            })
            let address = LegacyAddress(legacy: legacy, host: host)
            XCTAssertEqual(LegacyAddress(localpart: address.localpart), address, "via \(address.localpart)")

            let jid = try address.jid(domain: "gw.example")
            let expected = LegacyAddress(legacy: legacy.lowercased(), host: host.lowercased())
            XCTAssertEqual(LegacyAddress(jid: jid), expected, "via \(jid)")
        }
    }
}
