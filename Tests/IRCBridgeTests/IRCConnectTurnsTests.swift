import XCTest
@testable import IRCBridge

final class IRCConnectTurnsTests: XCTestCase {
    func testAtMostTheLimitConnectPerServerAndTheRestGoInOrder() {
        var turns = IRCConnectTurns(limit: 2)
        XCTAssertTrue(turns.request(1, server: "a"))
        XCTAssertTrue(turns.request(2, server: "a"))
        XCTAssertFalse(turns.request(3, server: "a"))
        XCTAssertFalse(turns.request(4, server: "a"))
        // Another server has turns of its own.
        XCTAssertTrue(turns.request(5, server: "b"))

        XCTAssertEqual(turns.release(2, server: "a"), [3])
        XCTAssertEqual(turns.release(1, server: "a"), [4])
        XCTAssertEqual(turns.release(3, server: "a"), [])
        XCTAssertEqual(turns.release(4, server: "a"), [])
        // All free again: a newcomer goes at once.
        XCTAssertTrue(turns.request(6, server: "a"))
        XCTAssertTrue(turns.request(7, server: "a"))
    }

    func testANewcomerDoesNotOvertakeTheQueue() {
        var turns = IRCConnectTurns(limit: 1)
        XCTAssertTrue(turns.request(1, server: "a"))
        XCTAssertFalse(turns.request(2, server: "a"))
        XCTAssertEqual(turns.release(1, server: "a"), [2])
        XCTAssertFalse(turns.request(3, server: "a"), "2 holds the only turn")
        XCTAssertEqual(turns.release(2, server: "a"), [3])
    }

    func testGivingUpWhileWaitingLeavesTheQueueAndFreesNothing() {
        var turns = IRCConnectTurns(limit: 1)
        XCTAssertTrue(turns.request(1, server: "a"))
        XCTAssertFalse(turns.request(2, server: "a"))
        XCTAssertFalse(turns.request(3, server: "a"))
        XCTAssertEqual(turns.release(2, server: "a"), [], "a waiter leaving admits no one")
        XCTAssertEqual(turns.release(1, server: "a"), [3])
        XCTAssertEqual(turns.release(9, server: "a"), [], "unknown ids are ignored")
        XCTAssertEqual(turns.release(3, server: "nowhere"), [])
        XCTAssertEqual(turns.release(3, server: "a"), [])
        XCTAssertTrue(turns.request(4, server: "a"))
    }
}
