import GatewayCore
import Synchronization
import XCTest

final class OutputBatchTests: XCTestCase {
    /// Held outputs are released once each, in the order they were first held, when the batch
    /// ends; after that the batch refuses, so late output is sent by its owner at once.
    func testReleasesInOrderOnceAndRefusesAfterTheEnd() {
        let log = ReleaseLog()
        let a = Output("a", log), b = Output("b", log)
        let batch = OutputBatch()
        XCTAssertTrue(batch.hold(a))
        XCTAssertTrue(batch.hold(b))
        XCTAssertEqual(log.names, [], "nothing before the end")
        batch.end()
        XCTAssertEqual(log.names, ["a", "b"])
        XCTAssertFalse(batch.hold(a), "an ended batch refuses")
        batch.end()
        XCTAssertEqual(log.names, ["a", "b"], "released once")
    }

    /// Releasing early hands over what is held and goes on holding.
    func testReleaseHandsOverAndKeepsHolding() {
        let log = ReleaseLog()
        let a = Output("a", log)
        let batch = OutputBatch()
        XCTAssertTrue(batch.hold(a))
        batch.release()
        XCTAssertEqual(log.names, ["a"])
        XCTAssertTrue(batch.hold(a), "still holding after an early release")
        batch.end()
        XCTAssertEqual(log.names, ["a", "a"])
    }

    /// An output held many times before a release (a link's wake, asked for with every stanza)
    /// is released once per release, in the place it was first held.
    func testAnOutputHeldRepeatedlyIsReleasedOncePerRelease() {
        let log = ReleaseLog()
        let a = Output("a", log), b = Output("b", log)
        let batch = OutputBatch()
        for output in [a, b, a, a, b] { XCTAssertTrue(batch.hold(output)) }
        batch.release()
        XCTAssertEqual(log.names, ["a", "b"])
        XCTAssertTrue(batch.hold(b))
        XCTAssertTrue(batch.hold(b))
        batch.end()
        XCTAssertEqual(log.names, ["a", "b", "b"])
    }

    /// A batch is current only while several stanzas are handled together.
    func testHandlingSetsABatchOnlyForSeveral() async {
        let seen = ReleaseLog()
        await OutputBatch.handling(1) { seen.append(OutputBatch.current == nil ? "none" : "batch") }
        await OutputBatch.handling(2) { seen.append(OutputBatch.current == nil ? "none" : "batch") }
        XCTAssertEqual(seen.names, ["none", "batch"])
        XCTAssertNil(OutputBatch.current)
    }
}

private final class ReleaseLog: Sendable {
    private let state = Mutex<[String]>([])
    func append(_ name: String) { state.withLock { $0.append(name) } }
    var names: [String] { state.withLock { $0 } }
}

private final class Output: HeldOutput {
    let name: String
    let log: ReleaseLog

    init(_ name: String, _ log: ReleaseLog) {
        self.name = name
        self.log = log
    }

    func releaseHeld() { log.append(name) }
}
