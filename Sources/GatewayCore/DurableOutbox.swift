import Logging
import XMPPCore

/// Stanzas for users that must not be lost — messages from foreign networks, receipts, delivery
/// errors — kept until the XMPP server has acknowledged them.
///
/// ``deliver(_:recipient:onceFor:)`` writes a stanza to the store first, then sends it with an
/// acknowledgement; only the acknowledgement removes it. While the link is down nothing is sent;
/// when it comes back every stored stanza goes out again in store order before any new one, so
/// order holds across reconnects and daemon restarts. A crash can repeat the last
/// unacknowledged stanzas; a graceful shutdown waits (bounded) for every acknowledgement, so it
/// repeats nothing.
///
/// ``enqueue(_:recipient:)`` is for networks that cannot be asked to resend anyway (IRC): while
/// the link is up and nothing stored waits ahead, the stanza goes out at once from memory and
/// reaches the store only if it must — when the link drops before the acknowledgement, or when
/// a stanza that must be stored is queued behind it. Either way it is stored ahead of anything
/// newer, so the order on the wire stays the order of the calls. Writing and deleting a row per
/// message was about 60% of the gateway's CPU in an IRC→XMPP burst. What this gives up: a
/// crash (not a graceful stop) loses the stanzas in flight, a few milliseconds' worth, like
/// those still in the bridge's buffers, which such a network cannot resend either.
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
    /// Stanzas from ``enqueue(_:recipient:)`` sent from memory on the current link, not yet
    /// acknowledged and not stored.
    private var inFlight = AscendingQueue<InFlightStanza>()
    private var lastSequence: Int64 = 0
    /// In-flight stanzas moved to the store while still on the wire: their store ids, for when
    /// their acknowledgement comes.
    private var spilledIDs: [Int64: Int64] = [:]
    /// In-flight stanzas acknowledged while their move to the store was still being written.
    private var acknowledgedWhileSpilling: Set<Int64> = []
    private var acknowledgedButStored: [Int64] = []
    private var deleting = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    /// What an acknowledgement is for: a stored stanza, or one sent from memory.
    private enum Acknowledged: Sendable {
        case stored(Int64)
        case inFlight(sequence: Int64)
    }

    /// Acknowledgements from the link's thread, on their way to this actor.
    private let acknowledgementArrivals = HandOffQueue<Acknowledged>()

    /// Where this actor runs: the gateway's executor (see ``ActorExecutor``), so the gateway's
    /// calls into it are plain calls.
    nonisolated let executor: ActorExecutor

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.unownedExecutor }

    public init(bridge: String, store: GatewayStore, sender: any StanzaSender, logger: Logger, executor: ActorExecutor = .own()) {
        self.executor = executor
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
        let stored = await withCheckedContinuation { continuation in
            queue(QueuedInsert(element: element, recipient: recipient, onceFor: key, continuation: continuation))
        }
        return try stored.get()
    }

    /// Sends a stanza from a network that cannot resend: at once from memory when the link is up
    /// and nothing stored waits ahead of it, else stored first like ``deliver(_:recipient:onceFor:)``
    /// (without waiting for the store). See the type's description for when it reaches the store.
    public func enqueue(_ element: XMLElement, recipient: String) {
        guard linkUp && !flushing && !inserting && inserts.isEmpty else {
            queue(QueuedInsert(element: element, recipient: recipient, onceFor: nil))
            return
        }
        lastSequence += 1
        inFlight.append(InFlightStanza(sequence: lastSequence, element: element, recipient: recipient))
        if !send(element, acknowledging: .inFlight(sequence: lastSequence)) {
            // The link went down under us: this stanza and those before it wait in the store.
            linkUp = false
            spillInFlight()
        }
    }

    private func queue(_ item: QueuedInsert) {
        // Whatever is in flight from memory was sent before this, so it is stored before it.
        spillInFlight()
        inserts.append(item)
        startInserting()
    }

    /// Moves the in-flight stanzas into the store queue. They were sent while nothing was
    /// queued, and anything queued since came through here, so they go first.
    private func spillInFlight() {
        guard !inFlight.isEmpty else { return }
        for entry in inFlight.removeAll() {
            inserts.append(QueuedInsert(element: entry.element, recipient: entry.recipient, onceFor: nil,
                                        sentAs: entry.sequence, sentOnLink: linkGeneration))
        }
        startInserting()
    }

    private func startInserting() {
        guard !inserting else { return }
        inserting = true
        Task { await self.writeInserts() }
    }

    private struct QueuedInsert {
        var insert: GatewayStore.PendingInsert
        var element: XMLElement
        var continuation: CheckedContinuation<Result<Bool, any Error>, Never>?
        /// For an in-flight stanza moved here: its sequence number and the link it went out on.
        var sentAs: Int64?
        var sentOnLink = 0

        init(element: XMLElement, recipient: String, onceFor key: String?, continuation: CheckedContinuation<Result<Bool, any Error>, Never>? = nil,
             sentAs: Int64? = nil, sentOnLink: Int = 0) {
            let stanza = XMLSerializer.string(element, enclosingNamespace: Namespace.component)
            self.insert = .init(recipient: recipient, stanza: stanza, onceFor: key)
            self.element = element
            self.continuation = continuation
            self.sentAs = sentAs
            self.sentOnLink = sentOnLink
        }
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
                if let id, let sequence = item.sentAs {
                    // Moved from memory after it went out: acknowledged meanwhile, it is done.
                    if acknowledgedWhileSpilling.remove(sequence) != nil {
                        acknowledged(id)
                        continue
                    }
                    // Its acknowledgement may still come (even just after the link dropped).
                    spilledIDs[sequence] = id
                    if linkUp && item.sentOnLink == linkGeneration {
                        // Still on the wire of this link: not sent again.
                        unacknowledged.append(id)
                        lastSentID = max(lastSentID, id)
                        continue
                    }
                }
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
        // Acknowledgements from an earlier link can no longer come. (Those that came while a
        // move to the store was being written are settled when the write ends.)
        spilledIDs.removeAll()
        // A flush still running for an earlier link notices the new generation and starts over.
        guard !flushing else { return }
        await flush()
    }

    public func linkLost() {
        linkUp = false
        // Whatever was not acknowledged is stored (in flight: now) and goes out again after
        // reconnecting.
        unacknowledged.removeAll()
        spillInFlight()
        resumeIdleWaitersIfIdle()
    }

    /// Waits until every sent stanza is acknowledged and removed from the store, or the link is down.
    public func waitUntilIdle() async {
        if isIdle { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    public var pendingAcknowledgements: Int { unacknowledged.count + inFlight.count }

    private var isIdle: Bool {
        ((unacknowledged.isEmpty && inFlight.isEmpty) || !linkUp) && acknowledgedButStored.isEmpty && !deleting && !flushing && !inserting
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
        if !send(element, acknowledging: .stored(id)) {
            unacknowledged.remove(id)
            linkUp = false
        }
    }

    /// Sends with an acknowledgement; false when the link refused.
    private func send(_ element: XMLElement, acknowledging what: Acknowledged) -> Bool {
        let arrivals = acknowledgementArrivals
        return sender.sendAcknowledged(element) { [weak self] in
            // Called on the link's thread, for each stanza of an acknowledged batch: one hop to
            // the actor per batch, not one per stanza.
            guard arrivals.add(what), let self else { return }
            Task { await self.takeAcknowledgements() }
        }
    }

    private func takeAcknowledgements() {
        while case let batch = acknowledgementArrivals.take(), !batch.isEmpty {
            for acknowledgement in batch {
                switch acknowledgement {
                case .stored(let id):
                    acknowledged(id)
                case .inFlight(let sequence):
                    if inFlight.remove(sequence) { continue }
                    if let id = spilledIDs.removeValue(forKey: sequence) {
                        acknowledged(id)
                    } else {
                        acknowledgedWhileSpilling.insert(sequence)
                    }
                }
            }
        }
        resumeIdleWaitersIfIdle()
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

