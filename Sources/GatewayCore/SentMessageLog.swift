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
struct RecentSends {
    private let capacity: Int
    /// Each send with the number of its insertion.
    private var byID: [String: (sent: SentMessage, number: Int)] = [:]
    /// Insertions in order, as a ring: `order[number % capacity]`.
    private var order: [(id: String, number: Int)] = []
    private var inserted = 0

    init(capacity: Int) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
    }

    subscript(legacyMessageID: String) -> SentMessage? { byID[legacyMessageID]?.sent }

    var count: Int { byID.count }

    mutating func insert(_ sent: SentMessage) {
        let entry = (id: sent.legacyMessageID, number: inserted)
        if order.count < capacity {
            order.append(entry)
        } else {
            let oldest = order[inserted % capacity]
            // An id used again since is younger than this slot: keep it.
            if byID[oldest.id]?.number == oldest.number { byID[oldest.id] = nil }
            order[inserted % capacity] = entry
        }
        byID[sent.legacyMessageID] = (sent, inserted)
        inserted += 1
    }
}
