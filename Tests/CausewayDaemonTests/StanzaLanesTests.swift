import GatewayCore
import Synchronization
import TestSupport
import XCTest
import XMPPCore

@testable import CausewayDaemon

final class StanzaLanesTests: XCTestCase {

    func testLaneIsTheBareSenderLowerCased() {
        XCTAssertEqual(StanzaLanes.lane(of: stanza("Alice@Example.org/Phone/x", 1)), "alice@example.org")
        XCTAssertEqual(StanzaLanes.lane(of: stanza("example.org", 1)), "example.org")
        XCTAssertEqual(StanzaLanes.lane(of: XMLElement("message", [:])), "")
    }

    /// A stanza may go at once unless its own lane is busy: another lane's work does not hold it.
    func testIdleUnlessItsOwnLaneIsBusy() {
        let lanes = StanzaLanes()
        let alice = stanza("alice@example.org/phone", 1)
        XCTAssertTrue(lanes.isIdle(laneOf: alice))
        XCTAssertEqual(lanes.enqueue([stanza("Bob@Example.org/x", 1)]).count, 1)
        XCTAssertTrue(lanes.isIdle(laneOf: alice), "bob's lane is busy, not alice's")
        XCTAssertFalse(lanes.isIdle(laneOf: stanza("bob@example.org/y", 2)), "the same lane, another resource")
    }

    /// One lane's stanzas are handled one at a time, in order, even when they arrive while
    /// earlier ones are still being handled; a second lane is not held up by a stuck first one.
    func testOrderWithinALaneAndLanesSideBySide() async throws {
        let lanes = StanzaLanes()
        let handled = Recorder()
        let (release, releaser) = AsyncStream.makeStream(of: Void.self)
        let (bobDone, bobFinished) = AsyncStream.makeStream(of: Void.self)

        try await withTimeout(10, "all stanzas handled") {
            await withDiscardingTaskGroup { group in
                for id in 1...50 {
                    let element = stanza("alice@example.org/r\(id % 3)", id)
                    for (lane, first) in lanes.enqueue([element]) {
                        XCTAssertEqual(lane, "alice@example.org")
                        group.addTask {
                            await lanes.drain(lane, startingWith: first) { batch in
                                for element in batch {
                                    XCTAssertEqual(handled.begin(), 1, "one at a time")
                                    // The first stanza waits until bob's lane has run to the end.
                                    if element[attribute: "id"] == "1" { for await _ in release { break } }
                                    handled.end("alice-\(element[attribute: "id"]!)")
                                }
                            }
                        }
                    }
                }
                let bob = stanza("bob@example.org/x", 1)
                XCTAssertEqual(lanes.enqueue([bob]).count, 1, "bob's lane was idle")
                group.addTask {
                    await lanes.drain("bob@example.org", startingWith: [bob]) { _ in
                        _ = handled.begin()
                        handled.end("bob-1")
                    }
                    bobFinished.yield()
                }
                var done = bobDone.makeAsyncIterator()
                await done.next()
                releaser.yield()
            }
        }
        let order = handled.order
        XCTAssertEqual(order.first, "bob-1")
        XCTAssertEqual(Array(order.dropFirst()), (1...50).map { "alice-\($0)" })
        let element = stanza("alice@example.org", 51)
        XCTAssertEqual(lanes.enqueue([element]).count, 1, "a drained lane is idle again")
    }

    /// A read with several senders' stanzas starts one drainer per idle lane, each with its own
    /// stanzas in order; stanzas for a lane that is already draining wait in it.
    func testOneReadIsSplitIntoItsLanes() {
        let lanes = StanzaLanes()
        let read = [stanza("alice@example.org/a", 1), stanza("bob@example.org/b", 2), stanza("Alice@example.org/c", 3)]
        let started = lanes.enqueue(read)
        XCTAssertEqual(started.map(\.lane), ["alice@example.org", "bob@example.org"])
        XCTAssertEqual(started.map { $0.first.map { $0[attribute: "id"]! } }, [["1", "3"], ["2"]])
        XCTAssertTrue(lanes.enqueue([stanza("bob@example.org/b", 4)]).isEmpty, "bob's lane is draining")
        XCTAssertEqual(lanes.enqueue([stanza("carol@example.org", 5)]).map(\.lane), ["carol@example.org"])
    }

    /// Stanzas handled together share one output batch; a stanza handled alone has none, so
    /// nothing it sends waits for anything.
    func testStanzasHandledTogetherShareAnOutputBatch() async {
        let lanes = StanzaLanes()
        let seen = Mutex<[ObjectIdentifier?]>([])
        let read = (1...3).map { stanza("alice@example.org", $0) }
        for (lane, first) in lanes.enqueue(read) {
            await lanes.drain(lane, startingWith: first) { batch in
                for _ in batch {
                    let current = OutputBatch.current.map(ObjectIdentifier.init)
                    seen.withLock { $0.append(current) }
                }
            }
        }
        for (lane, first) in lanes.enqueue([stanza("alice@example.org", 4)]) {
            await lanes.drain(lane, startingWith: first) { batch in
                for _ in batch { seen.withLock { $0.append(OutputBatch.current.map(ObjectIdentifier.init)) } }
            }
        }
        let batches = seen.withLock { $0 }
        XCTAssertEqual(batches.count, 4)
        XCTAssertNotNil(batches[0])
        XCTAssertEqual(Set(batches[0..<3]).count, 1, "one batch for the read")
        XCTAssertNil(batches[3], "alone: no batch")
    }
}

private func stanza(_ from: String, _ id: Int) -> XMLElement {
    XMLElement("message", namespace: Namespace.component, ["from": from, "id": "\(id)"])
}

/// What the handlers did, and how many run at once.
private final class Recorder: Sendable {
    private let state = Mutex<(order: [String], running: Int)>(([], 0))

    /// Counts a handler in; returns how many run now, itself included.
    func begin() -> Int { state.withLock { $0.running += 1; return $0.running } }

    func end(_ name: String) { state.withLock { $0.order.append(name); $0.running -= 1 } }

    var order: [String] { state.withLock { $0.order } }
}
