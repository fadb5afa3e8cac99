@testable import GatewayCore
import XCTest

final class RecentResultsTests: XCTestCase {
    private struct Refused: Error {}

    func testRecentInputsAreAnsweredFromMemoryAndTheOldestIsForgotten() {
        var results = RecentResults<String, Int>(size: 2)
        var computed: [String] = []
        func length(_ text: String) -> Int {
            results.value(for: text) { computed.append($0); return $0.count }
        }
        XCTAssertEqual(length("alice"), 5)
        XCTAssertEqual(length("alice"), 5)
        XCTAssertEqual(length("bob"), 3)
        XCTAssertEqual(length("alice"), 5)
        XCTAssertEqual(computed, ["alice", "bob"])
        XCTAssertEqual(length("carol"), 5)  // replaces alice, the oldest
        XCTAssertEqual(length("bob"), 3)
        XCTAssertEqual(length("alice"), 5)
        XCTAssertEqual(computed, ["alice", "bob", "carol", "alice"])
    }

    func testAFailureIsRememberedAsAResult() {
        var results = RecentResults<String, Result<Int, Refused>>(size: 2)
        var attempts = 0
        for _ in 0..<2 {
            let result = results.value(for: "bad") { _ in
                attempts += 1
                return .failure(Refused())
            }
            XCTAssertThrowsError(try result.get())
        }
        XCTAssertEqual(attempts, 1)
    }
}
