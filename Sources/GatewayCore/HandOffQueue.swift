import Synchronization

/// Items handed from any thread to one consumer task at a time, in order.
///
/// The producer adds; when no consumer is active, ``add(_:)`` says so and the producer starts
/// one. The consumer takes everything waiting, again and again, until ``take()`` comes back
/// empty, which ends its turn. So a burst costs one task, and an idle queue holds none.
///
/// Inlinable, as ``RecentResults`` is: the IRC bridge adds every inbound IRC event, and from
/// another module a generic without its bodies runs unspecialized, through the runtime's
/// metadata and value witnesses.
public final class HandOffQueue<Element: Sendable>: Sendable {
    @usableFromInline
    struct State {
        @usableFromInline var items: [Element] = []
        @usableFromInline var consuming = false

        @usableFromInline
        init() {}
    }

    @usableFromInline
    let state = Mutex(State())

    public init() {}

    /// Adds an item; true when no consumer is active and the caller must start one.
    @inlinable
    public func add(_ item: Element) -> Bool {
        state.withLock { state in
            state.items.append(item)
            if state.consuming { return false }
            state.consuming = true
            return true
        }
    }

    /// Everything waiting, oldest first; empty when nothing waits, which ends the consumer's
    /// turn (the next ``add(_:)`` asks for another).
    @inlinable
    public func take() -> [Element] {
        state.withLock { state in
            if state.items.isEmpty {
                state.consuming = false
                return []
            }
            // Handing the buffer over costs nothing; keeping its capacity would allocate anew
            // and keep a burst's worth of memory per queue.
            defer { state.items = [] }
            return state.items
        }
    }
}
