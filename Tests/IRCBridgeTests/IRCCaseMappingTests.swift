import XCTest

@testable import IRCBridge

final class IRCCaseMappingTests: XCTestCase {
    func testRFC1459FoldsBracketsAndTilde() {
        let m = IRCCaseMapping.rfc1459
        XCTAssertEqual(m.fold("Bob[away]"), "bob{away}")
        XCTAssertTrue(m.equals("Bob[away]", "bob{away}"))
        XCTAssertEqual(m.fold("A\\B~"), "a|b^")
        XCTAssertEqual(m.fold("{}|^"), "{}|^")
        XCTAssertEqual(m.fold("ж[Ω]é\u{301}B"), "ж{Ω}é\u{301}b", "folding around multi-byte scalars keeps them whole")
    }

    func testASCIIFoldsOnlyLetters() {
        let m = IRCCaseMapping.ascii
        XCTAssertFalse(m.equals("Bob[away]", "bob{away}"))
        XCTAssertTrue(m.equals("BOB[away]", "bob[AWAY]"))
        XCTAssertEqual(m.fold("ÄBC~"), "Äbc~", "non-ASCII letters are left alone")
    }

    func testStrictRFC1459LeavesTilde() {
        let m = IRCCaseMapping.strictRFC1459
        XCTAssertTrue(m.equals("Bob[away]", "bob{away}"))
        XCTAssertFalse(m.equals("bob~", "bob^"))
        XCTAssertTrue(IRCCaseMapping.rfc1459.equals("bob~", "bob^"))
    }

    func testISupportValues() {
        XCTAssertEqual(IRCCaseMapping(isupportValue: nil), .rfc1459)
        XCTAssertEqual(IRCCaseMapping(isupportValue: "ascii"), .ascii)
        XCTAssertEqual(IRCCaseMapping(isupportValue: "RFC1459"), .rfc1459)
        XCTAssertEqual(IRCCaseMapping(isupportValue: "strict-rfc1459"), .strictRFC1459)
        XCTAssertEqual(IRCCaseMapping(isupportValue: "rfc7613"), .ascii)
        XCTAssertEqual(IRCCaseMapping(isupportValue: "something-new"), .rfc1459)
        for m in [IRCCaseMapping.ascii, .rfc1459, .strictRFC1459] {
            XCTAssertEqual(IRCCaseMapping(isupportValue: m.isupportValue), m)
        }
    }
}
