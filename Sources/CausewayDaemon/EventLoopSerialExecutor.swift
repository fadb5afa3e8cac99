import GatewayCore
import NIOCore

/// A serial executor on one NIO event loop: actors that use it run on the loop's thread.
///
/// The daemon runs a bridge instance's gateway and bridge actors on their component link's loop,
/// so a stanza the loop has read can be handled and its output written by the same thread, as
/// plain calls. Code the loop runs outside a Swift task (a channel handler) is isolated to these
/// actors too (``isIsolatingCurrentContext()``), so it may enter them with `assumeIsolated` and
/// start immediate tasks there. Only for actors whose code never blocks the thread.
///
/// NIO's own event loop executor runs jobs as its loop's, under the loop's identity, and cannot
/// tell code on its thread that it is isolated to an actor that uses it; hence this type.
final class EventLoopSerialExecutor: ThreadBoundExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedSerialExecutor()) }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    func checkIsolated() {
        eventLoop.preconditionInEventLoop()
    }

    func isIsolatingCurrentContext() -> Bool? {
        eventLoop.inEventLoop
    }

    func execute(_ work: @escaping @Sendable () -> Void) {
        eventLoop.execute(work)
    }
}
