import NIOCore
import Synchronization

/// What a component link reports, in order, for one reader at a time: `AsyncStream`'s job,
/// written for ``LinkEvent``.
///
/// `AsyncStream` is generic code compiled into the Swift runtime and never specialized for its
/// element, so every event it passed cost run-time metadata and witness-table lookups and copies
/// through value witnesses: 7 % of the gateway's CPU at a steady 1000 stanzas/s (perf), all of it
/// between reading a stanza and handling it. This does the same with a lock, a buffer and one
/// waiting continuation.
///
/// Like `AsyncStream`'s: events yielded after ``finish()`` are dropped; the reader gets what was
/// buffered and then nil; cancelling the reading task finishes the stream.
///
/// Instead of a reader, a consumer that runs on the link's event loop can take the events where
/// they happen (``handOver(to:)``).
public final class LinkEventStream: AsyncSequence, Sendable {
    public typealias Element = LinkEvent
    public typealias Failure = Never

    private struct State {
        var buffered = CircularBuffer<LinkEvent>()
        var reader: UnsafeContinuation<LinkEvent?, Never>?
        var finished = false
        /// Set by ``handOver(to:)``: gets every event in place of a reader, and nil at the end.
        var handler: (@Sendable (LinkEvent?) -> Void)?

        /// The next event for a reader that asks now: `.some(nil)` when the stream is over,
        /// nil when the reader must wait.
        mutating func take() -> LinkEvent?? {
            if let event = buffered.popFirst() { return .some(event) }
            return finished ? .some(nil) : nil
        }
    }

    private let state = Mutex(State())

    init() {}

    /// Hands `event` to the reader (or the handler), or buffers it until the reader asks.
    func yield(_ event: LinkEvent) {
        let (reader, handler) = state.withLock { state -> (UnsafeContinuation<LinkEvent?, Never>?, (@Sendable (LinkEvent?) -> Void)?) in
            guard !state.finished else { return (nil, nil) }
            if let handler = state.handler { return (nil, handler) }
            guard let reader = state.reader else {
                state.buffered.append(event)
                return (nil, nil)
            }
            state.reader = nil
            return (reader, nil)
        }
        reader?.resume(returning: event)
        handler?(event)
    }

    /// Ends the stream: the reader gets what is buffered, then nil; a handler gets nil.
    func finish() {
        let (reader, handler) = state.withLock { state -> (UnsafeContinuation<LinkEvent?, Never>?, (@Sendable (LinkEvent?) -> Void)?) in
            if state.finished { return (nil, nil) }
            state.finished = true
            defer { state.reader = nil; state.handler = nil }
            return (state.reader, state.handler)
        }
        reader?.resume(returning: nil)
        handler?(nil)
    }

    /// From now on gives every event to `handler` as it is yielded, on the yielding thread,
    /// instead of to a reader: first what is buffered, then each new one; nil once the stream
    /// has finished. The stream must have no reader. The link yields and finishes on its event
    /// loop, and calls this there too, so the handler's calls are that loop's, in order.
    func handOver(to handler: @escaping @Sendable (LinkEvent?) -> Void) {
        let (buffered, finished) = state.withLock { state -> (CircularBuffer<LinkEvent>, Bool) in
            precondition(state.reader == nil && state.handler == nil, "a LinkEventStream has one reader at a time")
            defer { state.buffered = CircularBuffer() }
            if !state.finished { state.handler = handler }
            return (state.buffered, state.finished)
        }
        for event in buffered { handler(event) }
        if finished { handler(nil) }
    }

    /// Whether a reader waits for the next event (for tests).
    var readerIsWaiting: Bool {
        state.withLock { $0.reader != nil }
    }

    private func next() async -> LinkEvent? {
        if let ready = state.withLock({ $0.take() }) { return ready }
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<LinkEvent?, Never>) in
                let ready = state.withLock { state -> LinkEvent?? in
                    if let ready = state.take() { return ready }
                    precondition(state.reader == nil, "a LinkEventStream has one reader at a time")
                    state.reader = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            finish()
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate let stream: LinkEventStream

        public mutating func next() async -> LinkEvent? {
            await stream.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(stream: self)
    }
}
