#if canImport(FoundationEssentials)
import FoundationEssentials  // not Foundation: its ICU clashes with libxml2's in modules that see CLibXML2
#else
import Foundation
#endif
import Logging

/// Which XMPP message each foreign message id stands for, written to the store for delivery
/// reports that come after a restart (the gateway answers recent ones from ``RecentSends``).
/// Writes are batched: one transaction per burst, not per message. Reads flush first.
actor SentMessageLog {
    private let bridge: String
    private let store: GatewayStore
    private let logger: Logger
    private let waiting = WriteBatch<SentMessage>()

    /// Where this actor runs: the gateway's executor (see ``ActorExecutor``), so the gateway's
    /// calls into it are plain calls.
    nonisolated let executor: ActorExecutor

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.unownedExecutor }

    init(bridge: String, store: GatewayStore, logger: Logger, executor: ActorExecutor = .own()) {
        self.executor = executor
        self.bridge = bridge
        self.store = store
        self.logger = logger
    }

    /// Queues a send for the next batch, without a hop to this actor.
    nonisolated func record(_ sent: SentMessage) {
        waiting.append(sent) { await self.flush() }
    }

    /// The send the foreign id stands for, from the store.
    func storedSend(_ legacyMessageID: String) async throws -> SentMessage? {
        await flush()
        return try await store.sentMessage(bridge: bridge, legacyMessageID: legacyMessageID)
    }

    /// Writes what waits. A failure is logged: it costs reports after a restart, not messages.
    func flush() async {
        let batch = waiting.take()
        guard !batch.isEmpty else { return }
        do {
            try await store.recordSent(batch)
        } catch {
            logger.error("cannot record \(batch.count) sent message(s): \(error)")
        }
    }
}

/// The newest sends by foreign id, up to a capacity; the oldest is forgotten first. Most delivery
/// reports come within seconds and are answered from here.
///
/// The sends themselves sit in a ring, in insertion order; the index maps an id to its insertion
/// number, and an entry counts while its number is among the last `capacity`. The index comes in
/// two generations of `capacity` insertions each: new ids go into the current one, a lookup that
/// misses there asks the previous one, and when the current one is full it becomes the previous
/// and the old previous is emptied whole, to be the new current. So every insert costs one hash
/// and nothing else: entries are never removed one by one (removing a `String` key rehashes the
/// keys after it in its probe run, dearer than adding the new one), and nothing is rebuilt (a
/// rebuild of 10 000 entries at once, and the dictionary's growth to twice that before it, put a
/// burst of work and hundreds of page faults into a steady stream of messages every 10 000 sends).
struct RecentSends {
    private let capacity: Int
    /// Insertion numbers of the ids sent since `generationStart`, the newest send of each.
    private var current: [String: Int] = [:]
    /// The generation before: numbers from `generationStart - capacity` on.
    private var previous: [String: Int] = [:]
    private var generationStart = 0
    /// Sends in insertion order, as a ring: `ring[number % capacity]`.
    private var ring: [SentMessage] = []
    private var inserted = 0

    init(capacity: Int) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
    }

    subscript(legacyMessageID: String) -> SentMessage? {
        // The current generation is never stale (it holds at most `capacity` insertions) and
        // holds an id's newest send; the previous one only counts inside the window.
        if let number = current[legacyMessageID] { return ring[number % capacity] }
        guard let number = previous[legacyMessageID], number >= inserted - capacity else { return nil }
        return ring[number % capacity]
    }

    /// How many ids are remembered (for tests: it counts through the index).
    var count: Int {
        current.count + previous.count { $0.value >= inserted - capacity && current[$0.key] == nil }
    }

    mutating func insert(_ sent: SentMessage) {
        if ring.count < capacity {
            // Grown as sends come, not sized for all at the first: sizing the index for 10 000
            // touched 0.5 MiB at once, 6.5 KiB more per connection for the bench's first 100
            // users, each sending one message. Growing costs a copy now and then, until the
            // ring is full, and never again.
            ring.append(sent)
        } else {
            ring[inserted % capacity] = sent
        }
        if inserted - generationStart == capacity {
            // The dropped generation's table becomes the new one, emptied in place: a fresh
            // table of a whole generation's size is fresh pages, each faulted in by a send.
            // At the first rotation the dropped one is the initial empty table: sized then, once,
            // so the second generation does not grow by doubling as the first did.
            swap(&previous, &current)
            current.removeAll(keepingCapacity: true)
            current.reserveCapacity(capacity)
            generationStart = inserted
        }
        current[sent.legacyMessageID] = inserted
        inserted += 1
    }
}
