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
                    if lanes.enqueue(element, on: "alice@example.org") {
                        group.addTask {
                            var gate = release.makeAsyncIterator()
                            await lanes.drain("alice@example.org", startingWith: element) { element in
                                XCTAssertEqual(handled.begin(), 1, "one at a time")
                                // The first stanza waits until bob's lane has run to the end.
                                if element[attribute: "id"] == "1" { await gate.next() }
                                handled.end("alice-\(element[attribute: "id"]!)")
                            }
                        }
                    }
                }
                let bob = stanza("bob@example.org/x", 1)
                XCTAssertTrue(lanes.enqueue(bob, on: "bob@example.org"))
                group.addTask {
                    await lanes.drain("bob@example.org", startingWith: bob) { _ in
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
        XCTAssertTrue(lanes.enqueue(element, on: "alice@example.org"), "a drained lane is idle again")
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
