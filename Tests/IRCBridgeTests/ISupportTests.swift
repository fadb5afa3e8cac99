import XCTest

@testable import IRCBridge

final class ISupportTests: XCTestCase {
    func testDefaults() {
        let s = ISupport()
        XCTAssertEqual(s.caseMapping, .rfc1459)
        XCTAssertEqual(s.channelTypes, "#&")
        XCTAssertEqual(s.prefixes.map(\.symbol), ["@", "+"])
        XCTAssertNil(s.nickLength)
        XCTAssertNil(s.monitorLimit)
        XCTAssertEqual(s.channelLimits, [:])
        XCTAssertNil(s.network)
    }

    func testRealServerLines() throws {
        var s = ISupport()
        // Solanum (Libera.Chat) style.
        s.apply(try XCTUnwrap(IRCMessage(line: ":lead.libera.chat 005 me CALLERID=g WHOX ETRACE FNC SAFELIST ELIST=CMNTU KNOCK MONITOR=100 CHANTYPES=# EXCEPTS INVEX CHANMODES=eIbq,k,flj,CFLMPQRSTcgimnprstuz :are supported by this server")))
        s.apply(try XCTUnwrap(IRCMessage(line: ":lead.libera.chat 005 me CHANLIMIT=#:250 PREFIX=(ov)@+ MAXLIST=bqeI:100 MODES=4 NETWORK=Libera.Chat STATUSMSG=@+ CASEMAPPING=rfc1459 NICKLEN=16 MAXNICKLEN=16 CHANNELLEN=50 TOPICLEN=390 :are supported by this server")))
        XCTAssertEqual(s.monitorLimit, 100)
        XCTAssertEqual(s.channelTypes, "#")
        XCTAssertEqual(s.channelLimits, ["#": 250])
        XCTAssertEqual(s.network, "Libera.Chat")
        XCTAssertEqual(s.caseMapping, .rfc1459)
        XCTAssertEqual(s.nickLength, 16)
        XCTAssertEqual(s["WHOX"], "")
        XCTAssertEqual(s["TOPICLEN"], "390")
        XCTAssertNil(s["are supported by this server"])
    }

    func testPrefixAndOtherTokens() {
        let s = ISupport(tokens: ["PREFIX=(qaohv)~&@%+", "CASEMAPPING=ascii", "CHANTYPES=#&+", "MONITOR", "CHANLIMIT=#&:100,+:", "NICKLEN=30"])
        XCTAssertEqual(s.prefixes, [
            .init(mode: "q", symbol: "~"), .init(mode: "a", symbol: "&"), .init(mode: "o", symbol: "@"),
            .init(mode: "h", symbol: "%"), .init(mode: "v", symbol: "+"),
        ])
        XCTAssertEqual(s.caseMapping, .ascii)
        XCTAssertEqual(s.channelTypes, "#&+")
        XCTAssertEqual(s.monitorLimit, Int.max)
        let limits: [Character: Int?] = ["#": 100, "&": 100, "+": nil]
        XCTAssertEqual(s.channelLimits, limits)
        XCTAssertEqual(s.nickLength, 30)
    }

    func testNegationEscapesAndMalformed() {
        var s = ISupport(tokens: ["MONITOR=100", "NETWORK=My\\x20Net", "PREFIX=(ov)@", "NICKLEN=abc"])
        XCTAssertEqual(s.network, "My Net")
        XCTAssertEqual(s.prefixes.map(\.mode), ["o", "v"], "malformed PREFIX gives the default")
        XCTAssertNil(s.nickLength)
        s.apply(tokens: ["-MONITOR"])
        XCTAssertNil(s.monitorLimit)
        XCTAssertEqual(ISupport(tokens: ["PREFIX="]).prefixes, [])
        XCTAssertEqual(ISupport.unescape("a\\x5Cb\\xZZ\\x2"), "a\\b\\xZZ\\x2")
    }

    func testIgnoresOtherMessages() {
        var s = ISupport()
        s.apply(IRCMessage(command: "001", params: ["me", "NICKLEN=5 :x"]))
        s.apply(IRCMessage(command: "005", params: ["me"]))
        XCTAssertEqual(s, ISupport())
        // A server that omits the closing text: the last parameter is a token.
        s.apply(IRCMessage(command: "005", params: ["me", "NICKLEN=20"]))
        XCTAssertEqual(s.nickLength, 20)
    }
}
