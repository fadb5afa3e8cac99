import NIOCore

/// Runs the jobs of tasks that prefer it on one NIO event loop.
///
/// A task started with this preference (`withTaskExecutorPreference`, or a child of such a task)
/// runs its own code and that of any free default actor it calls on the event loop's thread. So
/// a stanza the loop has just read is handled on that thread, without waking a thread of the
/// cooperative pool for it, and what it sends is written by the same loop: the way a
/// single-threaded gateway works, with actors still keeping their state apart. Only for work that
/// never blocks its thread — and since a free default actor runs any caller's job where that
/// caller prefers, no code of an actor such a task calls may block either (synchronous file or
/// socket I/O, long locks), whoever calls it.
public final class EventLoopTaskExecutor: TaskExecutor {
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
