import XCTest

@testable import IRCBridge

final class IRCFormattingTests: XCTestCase {
    func testStripsSimpleCodes() {
        XCTAssertEqual(IRCFormatting.strip("\u{02}bold\u{02} \u{1D}it\u{1D} \u{1F}u\u{1F} \u{1E}s\u{1E} \u{11}m\u{11} \u{16}r\u{16}\u{0F}"), "bold it u s m r")
    }

    func testStripsColours() {
        XCTAssertEqual(IRCFormatting.strip("\u{03}4red\u{03}"), "red")
        XCTAssertEqual(IRCFormatting.strip("\u{03}04,12red on blue\u{03}"), "red on blue")
        XCTAssertEqual(IRCFormatting.strip("\u{03}4,1x"), "x")
        XCTAssertEqual(IRCFormatting.strip("\u{03}123"), "3", "at most two digits")
        XCTAssertEqual(IRCFormatting.strip("\u{03}4,123"), "3", "at most two background digits")
        XCTAssertEqual(IRCFormatting.strip("\u{03}4, hello"), ", hello", "a comma without a colour stays")
        XCTAssertEqual(IRCFormatting.strip("\u{03},5x"), ",5x", "no foreground, no background")
        XCTAssertEqual(IRCFormatting.strip("1,2\u{03}"), "1,2")
        XCTAssertEqual(IRCFormatting.strip("\u{03}"), "")
    }

    func testStripsHexColours() {
        XCTAssertEqual(IRCFormatting.strip("\u{04}FF0000red"), "red")
        XCTAssertEqual(IRCFormatting.strip("\u{04}ff0000,00FF00x"), "x")
        XCTAssertEqual(IRCFormatting.strip("\u{04}FF00x"), "FF00x", "not six hex digits: only the code goes")
        XCTAssertEqual(IRCFormatting.strip("\u{04}FF0000,00x"), ",00x")
    }

    func testLeavesOtherTextAlone() {
        XCTAssertEqual(IRCFormatting.strip("plain, text: 123 😀"), "plain, text: 123 😀")
        XCTAssertEqual(IRCFormatting.strip("\u{01}ACTION x\u{01}"), "\u{01}ACTION x\u{01}")
    }

    func testPlainTextRemovesRemainingControls() {
        XCTAssertEqual(IRCFormatting.plainText("\u{03}3a\u{07}b\u{01}c\td\u{7F}\u{0}"), "abc\td")
    }
}
