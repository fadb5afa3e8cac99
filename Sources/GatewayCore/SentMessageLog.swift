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

    init(bridge: String, store: GatewayStore, logger: Logger) {
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
/// number only. Inserting touches the ring slot and the index twice (forget, add). A dictionary of
/// whole sends made every insert a few cache misses in a table of 10 000 large entries.
struct RecentSends {
    private let capacity: Int
    /// Insertion number of the newest send of each id.
    private var index: [String: Int] = [:]
    /// Sends in insertion order, as a ring: `ring[number % capacity]`.
    private var ring: [SentMessage] = []
    private var inserted = 0

    init(capacity: Int) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
    }

    subscript(legacyMessageID: String) -> SentMessage? {
        guard let number = index[legacyMessageID] else { return nil }
        return ring[number % capacity]
    }

    var count: Int { index.count }

    mutating func insert(_ sent: SentMessage) {
        let slot = inserted % capacity
        if ring.count < capacity {
            ring.append(sent)
        } else {
            // An id used again since is younger than this slot: keep it.
            if let position = index.index(forKey: ring[slot].legacyMessageID), index.values[position] == inserted - capacity {
                index.remove(at: position)
            }
            ring[slot] = sent
        }
        index[sent.legacyMessageID] = inserted
        inserted += 1
    }
}
