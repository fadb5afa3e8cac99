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
    private var unacknowledged: Set<Int64> = []
    private var acknowledgedButStored: [Int64] = []
    private var deleting = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    public init(bridge: String, store: GatewayStore, sender: any StanzaSender, logger: Logger) {
        self.bridge = bridge
        self.store = store
        self.sender = sender
        self.logger = logger
    }

    /// Stores a stanza and sends it when the link allows. Returns once it is stored. With a key
    /// `onceFor`, a stanza for a key seen before is not stored again, and the result is false.
    @discardableResult
    public func deliver(_ element: XMLElement, recipient: String, onceFor key: String? = nil) async throws -> Bool {
        let stanza = XMLSerializer.string(element, enclosingNamespace: Namespace.component)
        guard let id = try await store.enqueuePending(bridge: bridge, recipient: recipient, stanza: stanza, onceFor: key) else {
            return false
        }
        // While a flush runs it will reach this row itself, in order.
        if linkUp && !flushing && id > lastSentID {
            transmit(id: id, element: element)
        }
        return true
    }

    public func linkEstablished() async {
        linkUp = true
        lastSentID = 0
        unacknowledged.removeAll()
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
        (unacknowledged.isEmpty || !linkUp) && acknowledgedButStored.isEmpty && !deleting && !flushing
    }

    private func flush() async {
        flushing = true
        defer {
            flushing = false
            resumeIdleWaitersIfIdle()
        }
        while linkUp {
            let batch: [PendingStanza]
            do {
                batch = try await store.pending(bridge: bridge, after: lastSentID, limit: 256)
            } catch {
                logger.error("cannot read stored stanzas: \(error)")
                return
            }
            if batch.isEmpty { return }
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
        unacknowledged.insert(id)
        let sent = sender.sendAcknowledged(element) { [weak self] in
            guard let self else { return }
            Task { await self.acknowledged(id) }
        }
        if !sent {
            unacknowledged.remove(id)
            linkUp = false
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
