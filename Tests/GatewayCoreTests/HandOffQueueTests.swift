import XCTest
@testable import GatewayCore

final class HandOffQueueTests: XCTestCase {
    func testOneConsumerAtATimeTakingEverythingInOrder() {
        let queue = HandOffQueue<Int>()
        XCTAssertTrue(queue.add(1), "the first item asks for a consumer")
        XCTAssertFalse(queue.add(2), "one is already asked for")
        XCTAssertEqual(queue.take(), [1, 2])
        XCTAssertFalse(queue.add(3), "the consumer's turn lasts until it finds nothing")
        XCTAssertEqual(queue.take(), [3])
        XCTAssertEqual(queue.take(), [], "nothing left: the turn ends")
        XCTAssertTrue(queue.add(4), "the next item asks for a consumer again")
        XCTAssertEqual(queue.take(), [4])
    }
}
