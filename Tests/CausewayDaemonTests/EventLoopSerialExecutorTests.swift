@testable import CausewayDaemon
import NIOCore
import NIOPosix
import Synchronization
import XCTest

final class EventLoopSerialExecutorTests: XCTestCase {
    /// An actor on the executor runs on the loop's thread, and code the loop runs outside any
    /// task counts as isolated to it: it can enter the actor synchronously and start an
    /// immediate task there that runs before the loop's callback returns.
    func testActorRunsOnTheLoopAndTheLoopIsIsolatedToIt() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let counter = LoopCounter(executor: EventLoopSerialExecutor(loop))
        let onLoop = await counter.increment()
        XCTAssertTrue(onLoop)

        let ranInPlace = try await loop.submit {
            let ran = Mutex(false)
            _ = counter.assumeIsolated { counter in
                Task.immediate {
                    _ = counter.incrementInPlace()
                    ran.withLock { $0 = true }
                }
            }
            return ran.withLock { $0 }
        }.get()
        XCTAssertTrue(ranInPlace, "an immediate task isolated to the actor runs at once on its loop")
        let count = await counter.count
        XCTAssertEqual(count, 2)
    }
}

private actor LoopCounter {
    let executor: EventLoopSerialExecutor
    var count = 0

    init(executor: EventLoopSerialExecutor) {
        self.executor = executor
    }

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    func increment() -> Bool {
        count += 1
        return executor.eventLoop.inEventLoop
    }

    func incrementInPlace() -> Int {
        count += 1
        return count
    }
}
