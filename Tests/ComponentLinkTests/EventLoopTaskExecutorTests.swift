import ComponentLink
import NIOCore
import NIOPosix
import XCTest

final class EventLoopTaskExecutorTests: XCTestCase {
    /// A task preferring the executor, its child tasks and the free default actors they call all
    /// run on the event loop's thread.
    func testTasksAndTheActorsTheyCallRunOnTheLoop() async {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let executor = EventLoopTaskExecutor(loop)
        let counter = Counter()
        let outside = loop.inEventLoop
        let (inTask, inChild, inActor) = await withTaskExecutorPreference(executor) {
            let inTask = loop.inEventLoop
            let inChild = await withTaskGroup(of: Bool.self) { group in
                group.addTask { loop.inEventLoop }
                return await group.next()!
            }
            let inActor = await counter.incrementOn(loop)
            return (inTask, inChild, inActor)
        }
        XCTAssertFalse(outside)
        XCTAssertTrue(inTask)
        XCTAssertTrue(inChild, "child tasks inherit the preference")
        XCTAssertTrue(inActor, "a free default actor runs where its caller prefers")
        let count = await counter.count
        XCTAssertEqual(count, 1)
    }
}

private actor Counter {
    var count = 0

    func incrementOn(_ loop: any EventLoop) -> Bool {
        count += 1
        return loop.inEventLoop
    }
}
