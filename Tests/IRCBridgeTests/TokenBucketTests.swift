import XCTest

@testable import IRCBridge

final class TokenBucketTests: XCTestCase {
    let t0 = ContinuousClock.now

    func testBurstThenOnePerInterval() {
        var b = TokenBucket(capacity: 5, refillPerSecond: 0.5)
        for i in 0..<5 { XCTAssertNil(b.take(now: t0), "line \(i) of the burst") }
        XCTAssertEqual(b.take(now: t0), .seconds(2))
        XCTAssertEqual(b.take(now: t0 + .seconds(1)), .seconds(1), "asking does not consume")
        XCTAssertNil(b.take(now: t0 + .seconds(2)))
        XCTAssertEqual(b.take(now: t0 + .seconds(2)), .seconds(2))
        XCTAssertNil(b.take(now: t0 + .seconds(4)))
    }

    func testRefillsWhileIdleUpToCapacity() {
        var b = TokenBucket(capacity: 3, refillPerSecond: 1)
        for _ in 0..<3 { XCTAssertNil(b.take(now: t0)) }
        XCTAssertNotNil(b.take(now: t0))
        // A long pause refills to capacity, not beyond.
        let later = t0 + .seconds(100)
        for _ in 0..<3 { XCTAssertNil(b.take(now: later)) }
        XCTAssertEqual(b.take(now: later), .seconds(1))
        // Partial refill: 1.5 s after the burst is one line plus half a wait.
        XCTAssertNil(b.take(now: later + .milliseconds(1500)))
        XCTAssertEqual(b.take(now: later + .milliseconds(1500)), .milliseconds(500))
    }

    func testSustainedRateOverTime() {
        // Send as fast as allowed for 60 s of synthetic time: 5 + 30 lines.
        var b = TokenBucket.publicNetwork
        var now = t0
        var sent = 0
        while now <= t0 + .seconds(60) {
            if let wait = b.take(now: now) { now += wait } else { sent += 1 }
        }
        XCTAssertEqual(sent, 5 + 30)
    }

    func testPublicNetworkDefaults() {
        let b = TokenBucket.publicNetwork
        XCTAssertEqual(b.capacity, 5)
        XCTAssertEqual(b.refillPerSecond, 0.5)
        XCTAssertFalse(b.isUnlimited)
    }

    func testUnlimited() {
        var b = TokenBucket.unlimited
        XCTAssertTrue(b.isUnlimited)
        for _ in 0..<10_000 { XCTAssertNil(b.take(now: t0)) }
        XCTAssertTrue(TokenBucket(capacity: 1, refillPerSecond: 0).isUnlimited)
    }

    func testTimeGoingBackwardsDoesNotGrantExtra() {
        var b = TokenBucket(capacity: 1, refillPerSecond: 1)
        XCTAssertNil(b.take(now: t0 + .seconds(10)))
        XCTAssertNotNil(b.take(now: t0))
        XCTAssertNotNil(b.take(now: t0 + .seconds(10)))
        XCTAssertNil(b.take(now: t0 + .seconds(11)))
    }
}
