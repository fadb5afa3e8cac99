import Logging
import XMPPCore

/// Stanzas for users that must not be lost — messages from foreign networks, receipts, delivery
/// errors — kept in the store until the XMPP server has acknowledged them.
///
/// Each stanza is written to the store first, then sent with an acknowledgement; only the
/// acknowledgement removes it. While the link is down nothing is sent; when it comes back every
/// stored stanza goes out again in store order before any new one, so order holds across
/// reconnects and daemon restarts. A crash can repeat the last unacknowledged stanzas; a
/// graceful shutdown waits (bounded) for every acknowledgement, so it repeats nothing.
public actor DurableOutbox {
    private let bridge: String
    private let store: GatewayStore
    private let sender: any StanzaSender
    private let logger: Logger

    private var linkUp = false
    /// The last stored id sent on the current connection.
    private var lastSentID: Int64 = 0
    private var flushing = false
    /// Counts link establishments, so a flush that read the store for an earlier link starts over.
    private var linkGeneration = 0
    /// Set when a stanza is stored while a flush reads the store: the read may have missed it.
    private var storedDuringFlushRead = false
    private var unacknowledged = AscendingIDs()
    private var acknowledgedButStored: [Int64] = []
    private var deleting = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    /// Acknowledgements from the link's thread, on their way to this actor.
    private let acknowledgementArrivals = HandOffQueue<Int64>()

    public init(bridge: String, store: GatewayStore, sender: any StanzaSender, logger: Logger) {
        self.bridge = bridge
        self.store = store
        self.sender = sender
        self.logger = logger
    }

    /// Stores a stanza and sends it when the link allows. Returns once it is stored. With a key
    /// `onceFor`, a stanza for a key seen before is not stored again, and the result is false.
    ///
    /// Stanzas that arrive while a write is under way are stored together in the next one
    /// (group commit): a burst costs one transaction per batch, not one per stanza.
    @discardableResult
    public func deliver(_ element: XMLElement, recipient: String, onceFor key: String? = nil) async throws -> Bool {
        let stanza = XMLSerializer.string(element, enclosingNamespace: Namespace.component)
        let stored = await withCheckedContinuation { continuation in
            queue(QueuedInsert(insert: .init(recipient: recipient, stanza: stanza, onceFor: key), element: element, continuation: continuation))
        }
        return try stored.get()
    }

    /// Like ``deliver(_:recipient:onceFor:)`` without waiting for the store: for networks that
    /// cannot be asked to resend anyway (IRC), so a burst is written in a few transactions.
    /// The stanza is still stored before it is sent, in the order of the calls.
    public func enqueue(_ element: XMLElement, recipient: String) {
        let stanza = XMLSerializer.string(element, enclosingNamespace: Namespace.component)
        queue(QueuedInsert(insert: .init(recipient: recipient, stanza: stanza, onceFor: nil), element: element, continuation: nil))
    }

    private func queue(_ item: QueuedInsert) {
        inserts.append(item)
        if !inserting {
            inserting = true
            Task { await self.writeInserts() }
        }
    }

    private struct QueuedInsert {
        var insert: GatewayStore.PendingInsert
        var element: XMLElement
        var continuation: CheckedContinuation<Result<Bool, any Error>, Never>?
    }

    private var inserts: [QueuedInsert] = []
    private var inserting = false

    /// Writes queued stanzas a batch at a time and sends each in id order, here on the actor,
    /// so the order on the wire is the order in the store.
    private func writeInserts() async {
        while !inserts.isEmpty {
            let batch = inserts
            inserts.removeAll()
            let ids: [Int64?]
            do {
                ids = try await store.enqueuePending(bridge: bridge, batch.map(\.insert))
            } catch {
                logger.error("cannot store \(batch.count) stanza(s) for users: \(error)")
                for item in batch { item.continuation?.resume(returning: .failure(error)) }
                continue
            }
            for (item, id) in zip(batch, ids) {
                // While a flush runs it reaches these rows itself, in order: it reads the store
                // again if this write may have come after its last read.
                if let id, linkUp {
                    if flushing {
                        storedDuringFlushRead = true
                    } else if id > lastSentID {
                        transmit(id: id, element: item.element)
                    }
                }
                item.continuation?.resume(returning: .success(id != nil))
            }
        }
        inserting = false
        resumeIdleWaitersIfIdle()
    }

    public func linkEstablished() async {
        linkUp = true
        linkGeneration += 1
        lastSentID = 0
        unacknowledged.removeAll()
        // A flush still running for an earlier link notices the new generation and starts over.
        guard !flushing else { return }
        await flush()
    }

    public func linkLost() {
        linkUp = false
        // Whatever was not acknowledged is still stored and goes out again after reconnecting.
        unacknowledged.removeAll()
        resumeIdleWaitersIfIdle()
    }

    /// Waits until every sent stanza is acknowledged and removed from the store, or the link is down.
    public func waitUntilIdle() async {
        if isIdle { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    public var pendingAcknowledgements: Int { unacknowledged.count }

    private var isIdle: Bool {
        (unacknowledged.isEmpty || !linkUp) && acknowledgedButStored.isEmpty && !deleting && !flushing && !inserting
    }

    private func flush() async {
        flushing = true
        defer {
            flushing = false
            resumeIdleWaitersIfIdle()
        }
        while linkUp {
            let generation = linkGeneration
            storedDuringFlushRead = false
            let batch: [PendingStanza]
            do {
                batch = try await store.pending(bridge: bridge, after: lastSentID, limit: 256)
            } catch {
                logger.error("cannot read stored stanzas: \(error)")
                return
            }
            // The link was re-established meanwhile: this batch started at the old link's
            // position; read again from the new one's.
            guard generation == linkGeneration else { continue }
            // Only an empty read that no write overlapped means everything stored went out.
            if batch.isEmpty && !storedDuringFlushRead { return }
            for row in batch where linkUp {
                guard let element = XMLElement.parse(row.stanza) else {
                    logger.error("dropping a stored stanza that no longer parses", metadata: ["id": "\(row.id)"])
                    lastSentID = row.id
                    acknowledged(row.id)
                    continue
                }
                transmit(id: row.id, element: element)
            }
        }
    }

    private func transmit(id: Int64, element: XMLElement) {
        lastSentID = id
        unacknowledged.append(id)
        let arrivals = acknowledgementArrivals
        let sent = sender.sendAcknowledged(element) { [weak self] in
            // Called on the link's thread, for each stanza of an acknowledged batch: one hop to
            // the actor per batch, not one per stanza.
            guard arrivals.add(id), let self else { return }
            Task { await self.takeAcknowledgements() }
        }
        if !sent {
            unacknowledged.remove(id)
            linkUp = false
        }
    }

    private func takeAcknowledgements() {
        while case let ids = acknowledgementArrivals.take(), !ids.isEmpty {
            for id in ids { acknowledged(id) }
        }
    }

    private func acknowledged(_ id: Int64) {
        unacknowledged.remove(id)
        acknowledgedButStored.append(id)
        guard !deleting else { return }
        deleting = true
        Task { await deleteAcknowledged() }
    }

    /// Deletes acknowledged rows in batches: one write for however many acknowledgements
    /// arrived meanwhile.
    private func deleteAcknowledged() async {
        while !acknowledgedButStored.isEmpty {
            let ids = acknowledgedButStored
            acknowledgedButStored.removeAll()
            do {
                try await store.deletePending(ids: ids)
            } catch {
                logger.error("cannot remove delivered stanzas from the store; they may be sent again: \(error)")
            }
        }
        deleting = false
        resumeIdleWaitersIfIdle()
    }

    private func resumeIdleWaitersIfIdle() {
        guard isIdle else { return }
        let waiters = idleWaiters
        idleWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }
}

