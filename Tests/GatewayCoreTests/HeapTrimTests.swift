import Dispatch
import GatewayCore
import Synchronization
import XCTest

final class HeapTrimTests: XCTestCase {
    /// Requests in a burst lead to one trim, once they have stopped for the quiet period.
    func testABurstOfRequestsTrimsOnceAfterItEnds() async throws {
        let trimmed = Mutex(0)
        let trimmer = HeapTrim(quietPeriod: .seconds(1), maximumDelay: .seconds(60)) { trimmed.withLock { $0 += 1 } }
        for _ in 0..<5 {
            trimmer.requestSoon()
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTAssertEqual(trimmer.trimCount, 0, "not while requests keep coming")
        try await waitUntil("the trim") { trimmer.trimCount > 0 }
        XCTAssertEqual(trimmed.withLock { $0 }, 1, "one trim for the burst")
    }

    /// A trim is counted once its work has run, so a reader of the count sees that work done.
    func testATrimIsCountedOnceItHasRun() async throws {
        let inTrim = DispatchSemaphore(value: 0)
        let mayFinish = DispatchSemaphore(value: 0)
        let trimmer = HeapTrim(quietPeriod: .milliseconds(10), maximumDelay: .seconds(60)) {
            inTrim.signal()
            mayFinish.wait()
        }
        trimmer.requestSoon()
        await withCheckedContinuation { (started: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                inTrim.wait()
                started.resume()
            }
        }
        XCTAssertEqual(trimmer.trimCount, 0, "not counted while it runs")
        mayFinish.signal()
        try await waitUntil("the count") { trimmer.trimCount == 1 }
    }

    /// A steady stream of requests still trims, at the latest the maximum delay after the first.
    func testSteadyRequestsTrimByTheMaximumDelay() async throws {
        let trimmer = HeapTrim(quietPeriod: .seconds(60), maximumDelay: .milliseconds(200)) {}
        let start = ContinuousClock.now
        trimmer.requestSoon()
        try await waitUntil("the trim") {
            trimmer.requestSoon()
            return trimmer.trimCount > 0
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(30), "not held off by the quiet period")
    }

    private func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { return XCTFail("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
