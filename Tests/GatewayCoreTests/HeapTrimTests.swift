import GatewayCore
import XCTest

final class HeapTrimTests: XCTestCase {
    /// Requests in a burst lead to one trim, once they have stopped for the quiet period.
    func testABurstOfRequestsTrimsOnceAfterItEnds() async throws {
        let before = HeapTrim.trimCount
        for _ in 0..<5 {
            HeapTrim.requestSoon()
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTAssertEqual(HeapTrim.trimCount, before, "not while requests keep coming")
        let deadline = ContinuousClock.now + .seconds(10)
        while HeapTrim.trimCount == before, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTAssertEqual(HeapTrim.trimCount, before + 1, "one trim for the burst")
    }
}
