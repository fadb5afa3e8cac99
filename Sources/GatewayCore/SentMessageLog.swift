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
/// number only, and an entry counts while its number is among the last `capacity`. Entries are
/// never removed one by one: removing a `String` key from a dictionary rehashes the keys after it
/// in its probe run, which made forgetting the oldest send dearer than adding the new one. The
/// index is rebuilt from the ring instead whenever it has grown to twice the capacity, about one
/// hash per insert.
struct RecentSends {
    private let capacity: Int
    /// Insertion number of the newest send of each id, stale ones included until a rebuild.
    private var index: [String: Int] = [:]
    /// Sends in insertion order, as a ring: `ring[number % capacity]`.
    private var ring: [SentMessage] = []
    private var inserted = 0

    init(capacity: Int) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
    }

    subscript(legacyMessageID: String) -> SentMessage? {
        guard let number = index[legacyMessageID], number >= inserted - capacity else { return nil }
        return ring[number % capacity]
    }

    /// How many ids are remembered (for tests: it counts through the index).
    var count: Int { index.values.count { $0 >= inserted - capacity } }

    mutating func insert(_ sent: SentMessage) {
        if ring.count < capacity {
            ring.append(sent)
        } else {
            ring[inserted % capacity] = sent
        }
        index[sent.legacyMessageID] = inserted
        inserted += 1
        if index.count >= 2 * capacity { rebuildIndex() }
    }

    /// The index of what the ring holds, the newest send of each id winning.
    private mutating func rebuildIndex() {
        var rebuilt = [String: Int](minimumCapacity: capacity)
        for number in max(0, inserted - capacity)..<inserted {
            rebuilt[ring[number % capacity].legacyMessageID] = number
        }
        index = rebuilt
    }
}
