#if canImport(FoundationEssentials)
import FoundationEssentials  // not Foundation: its ICU clashes with libxml2's in modules that see CLibXML2
#else
import Foundation
#endif
import GRDB

// Ordered, exactly-once delivery: the queue for a link that is down, sent-message ids for
// delivery reports, and inbound events already handled.
extension GatewayStore {
    // MARK: - Pending stanzas

    /// Queues a serialized stanza for `bridge`'s link; returns its id (its place in the order).
    @discardableResult
    public func enqueuePending(bridge: String, recipient: String, stanza: String) async throws -> Int64 {
        let now = StoreDate.databaseValue(Date())
        return try await write { db in
            try Self.insertPending(db, bridge: bridge, recipient: recipient, stanza: stanza, at: now)
        }
    }

    /// Queues a stanza unless `key` was seen before on `bridge` (see ``markSeen(bridge:key:at:)``):
    /// returns its id, or `nil` for a repeat. Marking and queueing are one transaction, so a crash
    /// cannot mark an event whose stanza was never stored. A `nil` key always queues.
    @discardableResult
    public func enqueuePending(bridge: String, recipient: String, stanza: String, onceFor key: String?) async throws -> Int64? {
        let now = StoreDate.databaseValue(Date())
        return try await write { db in
            if let key, try !Self.insertSeen(db, bridge: bridge, key: key, at: now) {
                return nil
            }
            return try Self.insertPending(db, bridge: bridge, recipient: recipient, stanza: stanza, at: now)
        }
    }

    /// One stanza of a batch for ``enqueuePending(bridge:_:)``.
    public struct PendingInsert: Sendable {
        public var recipient: String
        public var stanza: String
        public var onceFor: String?

        public init(recipient: String, stanza: String, onceFor: String?) {
            self.recipient = recipient
            self.stanza = stanza
            self.onceFor = onceFor
        }
    }

    /// Queues several stanzas in one transaction (group commit), in order; returns each one's
    /// id, or `nil` for a repeat of a key seen before.
    public func enqueuePending(bridge: String, _ inserts: [PendingInsert]) async throws -> [Int64?] {
        let now = StoreDate.databaseValue(Date())
        return try await write { db in
            try inserts.map { insert in
                if let key = insert.onceFor, try !Self.insertSeen(db, bridge: bridge, key: key, at: now) { return nil }
                return try Self.insertPending(db, bridge: bridge, recipient: insert.recipient, stanza: insert.stanza, at: now)
            }
        }
    }

    /// Up to `limit` queued stanzas of `bridge` with ids above `after`, oldest first. They stay
    /// queued until ``deletePending(ids:)``, so a crash mid-flush sends them again rather than
    /// losing them.
    public func pending(bridge: String, after: Int64 = 0, limit: Int = 100) async throws -> [PendingStanza] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM pendingStanza WHERE bridge = ? AND id > ? ORDER BY id LIMIT ?",
                arguments: [bridge, after, limit]
            ).map { row in
                PendingStanza(
                    id: row["id"], bridge: row["bridge"], recipient: row["recipient"],
                    stanza: row["stanza"], createdAt: StoreDate.read(row["createdAt"]) ?? .distantPast)
            }
        }
    }

    /// Removes delivered stanzas from the queue.
    public func deletePending(ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        try await write { db in
            // One cached statement per id: no limit on the number of ids, one transaction.
            let statement = try db.cachedStatement(sql: "DELETE FROM pendingStanza WHERE id = ?")
            for id in ids {
                try statement.execute(arguments: [id])
            }
        }
    }

    /// How many stanzas wait for `bridge`'s link.
    public func pendingCount(bridge: String) async throws -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pendingStanza WHERE bridge = ?", arguments: [bridge]) ?? 0
        }
    }

    // MARK: - Sent messages

    /// Remembers, in one transaction, which XMPP message (`xmppID` from `user` to `peer`) each
    /// send became on the foreign network (`legacyMessageID`). A reused foreign id replaces the
    /// older mapping; within the batch, the later send wins.
    public func recordSent(_ sends: [SentMessage]) async throws {
        guard !sends.isEmpty else { return }
        try await write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT INTO sentMessage (bridge, user, xmppID, peer, legacyMessageID, createdAt) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (bridge, legacyMessageID) DO UPDATE
                SET user = excluded.user, xmppID = excluded.xmppID, peer = excluded.peer, createdAt = excluded.createdAt
                """)
            for sent in sends {
                try statement.execute(arguments: [sent.bridge, sent.user, sent.xmppID, sent.peer, sent.legacyMessageID, StoreDate.databaseValue(sent.createdAt)])
            }
        }
    }

    /// The message the foreign id `legacyMessageID` stands for, if it was recorded.
    public func sentMessage(bridge: String, legacyMessageID: String) async throws -> SentMessage? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM sentMessage WHERE bridge = ? AND legacyMessageID = ?",
                arguments: [bridge, legacyMessageID]
            ).map { row in
                SentMessage(
                    bridge: row["bridge"], user: row["user"], xmppID: row["xmppID"], peer: row["peer"],
                    legacyMessageID: row["legacyMessageID"], createdAt: StoreDate.read(row["createdAt"]) ?? .distantPast)
            }
        }
    }

    /// Forgets sent messages recorded before `date`; returns how many.
    @discardableResult
    public func pruneSent(olderThan date: Date) async throws -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM sentMessage WHERE createdAt < ?", arguments: [StoreDate.databaseValue(date)])
            return db.changesCount
        }
    }

    // MARK: - Seen events

    /// Records an inbound event (a carrier message id, a webhook signature…) and says whether
    /// this is the first time: `true` means handle it, `false` means it is a retry or a replay.
    /// Atomic, so two concurrent deliveries of one event get one `true`.
    public func markSeen(bridge: String, key: String, at date: Date = Date()) async throws -> Bool {
        let date = StoreDate.databaseValue(date)
        return try await write { db in
            try Self.insertSeen(db, bridge: bridge, key: key, at: date)
        }
    }

    /// Forgets events seen before `date`; returns how many. Keep them longer than the longest
    /// time a peer may retry or replay.
    @discardableResult
    public func pruneSeen(olderThan date: Date) async throws -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM seenEvent WHERE seenAt < ?", arguments: [StoreDate.databaseValue(date)])
            return db.changesCount
        }
    }

    // MARK: - Statements shared by the operations above

    /// `date` comes converted once for a whole batch.
    private static func insertPending(_ db: Database, bridge: String, recipient: String, stanza: String, at date: DatabaseValue) throws -> Int64 {
        try db.cachedStatement(sql: "INSERT INTO pendingStanza (bridge, recipient, stanza, createdAt) VALUES (?, ?, ?, ?)")
            .execute(arguments: [bridge, recipient, stanza, date])
        return db.lastInsertedRowID
    }

    /// True when the row is new: INSERT OR IGNORE changes nothing for a key already there.
    private static func insertSeen(_ db: Database, bridge: String, key: String, at date: DatabaseValue) throws -> Bool {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO seenEvent (bridge, key, seenAt) VALUES (?, ?, ?)")
            .execute(arguments: [bridge, key, date])
        return db.changesCount == 1
    }
}
