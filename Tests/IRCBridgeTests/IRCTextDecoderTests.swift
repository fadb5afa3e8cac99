import XCTest

@testable import IRCBridge

final class IRCTextDecoderTests: XCTestCase {
    func testUTF8AsIs() {
        XCTAssertEqual(IRCTextDecoder.decode(Array("Grüße 😀".utf8)), "Grüße 😀")
        XCTAssertEqual(IRCTextDecoder.decode([UInt8]()), "")
    }

    func testLatin1Fallback() {
        // "Grüße" in ISO-8859-1.
        XCTAssertEqual(IRCTextDecoder.decode([0x47, 0x72, 0xFC, 0xDF, 0x65]), "Grüße")
        XCTAssertEqual(IRCTextDecoder.decode([0xE9]), "é")
        XCTAssertEqual(IRCTextDecoder.decodeLatin1(Array(0...255).map(UInt8.init)).unicodeScalars.map(\.value), Array(0...255))
    }

    func testDecisionIsPerLine() {
        // "é" in UTF-8 (C3 A9) next to a lone latin-1 "é" (E9): the line is not UTF-8, so both
        // halves are latin-1 — never a mix decided per character.
        XCTAssertEqual(IRCTextDecoder.decode([0xC3, 0xA9, 0x20, 0xE9]), "Ã© é")
        // A truncated UTF-8 sequence at the end also makes the whole line latin-1.
        XCTAssertEqual(IRCTextDecoder.decode([0x61, 0xF0, 0x9F, 0x98]), "a\u{F0}\u{9F}\u{98}")
    }

    func testOverlongAndSurrogatesAreNotUTF8() {
        XCTAssertEqual(IRCTextDecoder.decode([0xC0, 0xAF]), "\u{C0}\u{AF}")
        XCTAssertEqual(IRCTextDecoder.decode([0xED, 0xA0, 0x80]), "\u{ED}\u{A0}\u{80}")
    }
}
