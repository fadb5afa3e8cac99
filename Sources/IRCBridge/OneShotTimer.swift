import NIOCore
import NIOPosix

/// Runs a closure once after a delay unless cancelled first; cancelling frees it at once.
///
/// For timers that are nearly always cancelled, like the connect timeout every registered
/// connection cancels. A cancelled `Task.sleep` resumes its task, but on Linux the task and
/// its dispatch timer stay allocated until the deadline would have passed: 800 bytes per
/// connection for the first 20 seconds of its life, a tenth of its memory after a burst of
/// connections. A NIO scheduled task leaves the loop's timer heap when cancelled.
struct OneShotTimer: Sendable {
    private let scheduled: Scheduled<Void>

    init(after delay: Duration, on group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, _ fire: @escaping @Sendable () -> Void) {
        scheduled = group.any().scheduleTask(in: TimeAmount(delay), fire)
    }

    func cancel() {
        scheduled.cancel()
    }
}
