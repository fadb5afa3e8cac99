import Synchronization

/// One connection's events on their way from its loop thread to the ``IRCBridge`` actor, in
/// order.
///
/// While events wait, one task drains them; once none wait the task ends. An idle connection
/// therefore holds no task: a long-lived consumer task per connection kept its deepest async
/// frames (several KiB) for as long as the connection lived, most of a connection's memory.
final class IRCEventInbox: Sendable {
    private struct State {
        var events: [IRCEvent] = []
        var draining = false
    }

    private let state = Mutex(State())

    /// Adds an event; true when no drainer runs and the caller must start one.
    func add(_ event: IRCEvent) -> Bool {
        state.withLock { state in
            state.events.append(event)
            if state.draining { return false }
            state.draining = true
            return true
        }
    }

    /// Everything waiting, oldest first; when nothing waits, the drain is over (the next
    /// ``add(_:)`` starts another) and the result is empty.
    func take() -> [IRCEvent] {
        state.withLock { state in
            if state.events.isEmpty {
                state.draining = false
                return []
            }
            defer { state.events.removeAll() }
            return state.events
        }
    }
}
