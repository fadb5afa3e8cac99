import XCTest

@testable import IRCBridge

final class CTCPMessageTests: XCTestCase {
    func testAction() {
        XCTAssertEqual(CTCPMessage.parse("\u{01}ACTION waves\u{01}"), .action("waves"))
        XCTAssertEqual(CTCPMessage.parse("\u{01}ACTION waves"), .action("waves"), "closing byte optional")
        XCTAssertEqual(CTCPMessage.parse("\u{01}action waves hello\u{01}"), .action("waves hello"))
        XCTAssertEqual(CTCPMessage.parse("\u{01}ACTION\u{01}"), .action(""))
    }

    func testRequests() {
        XCTAssertEqual(CTCPMessage.parse("\u{01}VERSION\u{01}"), .request(command: "VERSION", arguments: ""))
        XCTAssertEqual(CTCPMessage.parse("\u{01}PING 12345\u{01}"), .request(command: "PING", arguments: "12345"))
        XCTAssertEqual(CTCPMessage.parse("\u{01}time\u{01}"), .request(command: "TIME", arguments: ""))
    }

    func testPlainTextIsNotCTCP() {
        XCTAssertNil(CTCPMessage.parse("hello"))
        XCTAssertNil(CTCPMessage.parse(""))
        XCTAssertNil(CTCPMessage.parse("x\u{01}ACTION y\u{01}"))
        XCTAssertNil(CTCPMessage.parse("\u{01}\u{01}"))
        XCTAssertNil(CTCPMessage.parse("\u{01}"))
    }

    func testFramed() {
        XCTAssertEqual(CTCPMessage.action("waves").framed, "\u{01}ACTION waves\u{01}")
        XCTAssertEqual(CTCPMessage.request(command: "VERSION", arguments: "").framed, "\u{01}VERSION\u{01}")
        XCTAssertEqual(CTCPMessage.parse(CTCPMessage.request(command: "PING", arguments: "1 2").framed), .request(command: "PING", arguments: "1 2"))
    }
}
