import Synchronization

/// Remembers webhook signatures recently seen, so the same signed request is processed once.
///
/// A signature only needs remembering while its timestamp is still acceptable to a
/// ``WebhookVerifier``. A timestamp may lie up to `tolerance` seconds in the future, so an entry
/// is kept for twice the tolerance after it is first seen; after that the verifier refuses the
/// request as stale anyway.
///
/// The cache is bounded: beyond `capacity` entries the oldest are forgotten first. Size it above
/// the number of webhooks expected in `2 × tolerance` seconds (the default, 100 000, covers more
/// than 80 per second at the default tolerance). The daemon records signatures in its store;
/// this in-memory cache serves the stub carrier and tests.
public final class ReplayCache: Sendable {
    private struct State {
        /// Each remembered signature with the serial number of its entry in `order`.
        var seen: [String: UInt64] = [:]
        /// Entries in the order recorded; those before `head` are gone.
        var order: [(signature: String, at: Int, serial: UInt64)] = []
        var head = 0
        var nextSerial: UInt64 = 0
    }

    private let state = Mutex(State())
    /// Seconds an entry is kept after it is first seen.
    public let retention: Int
    /// The most entries kept.
    public let capacity: Int

    /// - Parameters:
    ///   - tolerance: the verifier's tolerance in seconds; entries are kept twice as long.
    ///   - capacity: the most signatures remembered.
    public init(tolerance: Int = 300, capacity: Int = 100_000) {
        self.retention = 2 * tolerance
        self.capacity = max(1, capacity)
    }

    /// Whether `signature` is seen for the first time; records it if so.
    /// - Parameter now: the current time in Unix seconds.
    public func firstSighting(_ signature: String, at now: Int) -> Bool {
        state.withLock { state in
            evict(&state, now: now)
            if state.seen[signature] != nil { return false }
            state.seen[signature] = state.nextSerial
            state.order.append((signature, now, state.nextSerial))
            state.nextSerial += 1
            while state.seen.count > capacity {
                removeOldest(&state)
            }
            return true
        }
    }

    /// Forgets `signature`, so the same request is accepted once more: for a receiver that
    /// recorded a signature and then failed to process the request (answering 5xx so the carrier
    /// retries).
    public func forget(_ signature: String) {
        state.withLock { state in
            state.seen[signature] = nil
        }
    }

    /// How many signatures are remembered now.
    public var count: Int {
        state.withLock { $0.seen.count }
    }

    private func evict(_ state: inout State, now: Int) {
        while state.head < state.order.count, state.order[state.head].at < now - retention {
            removeOldest(&state)
        }
        // Compact once the dead prefix dominates, keeping appends amortized O(1).
        if state.head > 1024, state.head * 2 > state.order.count {
            state.order.removeFirst(state.head)
            state.head = 0
        }
    }

    private func removeOldest(_ state: inout State) {
        let oldest = state.order[state.head]
        // A forgotten and then re-recorded signature has a newer entry further on; keep it.
        if state.seen[oldest.signature] == oldest.serial {
            state.seen[oldest.signature] = nil
        }
        state.head += 1
    }
}
