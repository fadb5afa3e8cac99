import XCTest
@testable import GatewayCore

final class AscendingQueueTests: XCTestCase {
    func testBehavesLikeASetForInOrderAndStrayRemovals() {
        var ids = AscendingIDs()
        var reference = Set<Int64>()
        var generator = SystemRandomNumberGenerator()
        var next: Int64 = 1
        for round in 0..<20_000 {
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<5:
                ids.append(next)
                reference.insert(next)
                next += Int64.random(in: 1...3, using: &generator)
            case 5..<8:
                // The oldest, as acknowledgements come.
                if let oldest = reference.min() {
                    ids.remove(oldest)
                    reference.remove(oldest)
                }
            case 8:
                // Anything, present or not (a stray acknowledgement from an earlier connection).
                let any = Int64.random(in: 0...next, using: &generator)
                ids.remove(any)
                reference.remove(any)
            default:
                if round % 997 == 0 {
                    ids.removeAll()
                    reference.removeAll()
                }
            }
            XCTAssertEqual(ids.count, reference.count)
            XCTAssertEqual(ids.isEmpty, reference.isEmpty)
        }
    }

    func testEmptyAfterRemovingEverythingInOrder() {
        var ids = AscendingIDs()
        for id in 1...5000 { ids.append(Int64(id)) }
        for id in 1...4999 { ids.remove(Int64(id)) }
        XCTAssertEqual(ids.count, 1)
        ids.remove(5000)
        XCTAssertTrue(ids.isEmpty)
        ids.append(1)  // after emptying, ids may start low again
        XCTAssertEqual(ids.count, 1)
        // Out of order or repeated: kept sorted, once.
        ids.append(7)
        ids.append(3)
        ids.append(3)
        XCTAssertEqual(ids.count, 3)
        ids.remove(3)
        ids.remove(1)
        ids.remove(7)
        XCTAssertTrue(ids.isEmpty)
    }
}
