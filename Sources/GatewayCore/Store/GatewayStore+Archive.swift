#if canImport(FoundationEssentials)
import FoundationEssentials  // not Foundation: its ICU clashes with libxml2's in modules that see CLibXML2
#else
import Foundation
#endif
import GRDB

extension GatewayStore {
    /// A user's room, as the archive keeps it apart.
    public struct ArchiveRoom: Hashable, Sendable {
        public var bridge: String
        public var user: String
        public var room: String

        public init(bridge: String, user: String, room: String) {
            self.bridge = bridge
            self.user = user
            self.room = room
        }
    }

    /// Appends messages in one transaction, then cuts each room of `trimming` back to its newest
    /// `keep` messages. (Cutting costs a walk over up to `keep` index entries, so the caller asks
    /// for it only now and then.)
    public func appendArchive(_ messages: [ArchivedMessage], keepPerRoom keep: Int, trimming: Set<ArchiveRoom>) async throws {
        guard !messages.isEmpty || !trimming.isEmpty else { return }
        try await write { db in
            let insert = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO roomArchive (bridge, user, room, stanzaID, nick, body, at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            for message in messages {
                try insert.execute(arguments: [message.bridge, message.user, message.room, message.stanzaID, message.nick, message.body,
                                               message.at.timeIntervalSince1970])
            }
            let trim = try db.cachedStatement(sql: """
                DELETE FROM roomArchive WHERE bridge = ? AND user = ? AND room = ? AND id <= (
                    SELECT id FROM roomArchive WHERE bridge = ? AND user = ? AND room = ? ORDER BY id DESC LIMIT 1 OFFSET ?)
                """)
            for room in trimming {
                try trim.execute(arguments: [room.bridge, room.user, room.room, room.bridge, room.user, room.room, keep])
            }
        }
    }

    /// A page of one user's archive of one room, oldest first.
    public func archive(bridge: String, user: String, room: String, query: ArchiveQuery) async throws -> ArchivePage {
        try await read { db in
            var conditions = ["bridge = ?", "user = ?", "room = ?"]
            var arguments: [any DatabaseValueConvertible] = [bridge, user, room]
            if let start = query.start {
                conditions.append("at >= ?")
                arguments.append(start.timeIntervalSince1970)
            }
            if let end = query.end {
                conditions.append("at <= ?")
                arguments.append(end.timeIntervalSince1970)
            }
            let range = conditions.joined(separator: " AND ")
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM roomArchive WHERE \(range)", arguments: StatementArguments(arguments)) ?? 0
            var paged = conditions
            var pagedArguments = arguments
            let backwards = query.before != nil
            if let after = query.after {
                paged.append("id > COALESCE((SELECT id FROM roomArchive WHERE stanzaID = ?), 9223372036854775807)")
                pagedArguments.append(after)
            }
            if let before = query.before, !before.isEmpty {
                paged.append("id < COALESCE((SELECT id FROM roomArchive WHERE stanzaID = ?), -1)")
                pagedArguments.append(before)
            }
            pagedArguments.append(query.limit + 1)
            let rows = try Row.fetchAll(db, sql: """
                SELECT * FROM roomArchive WHERE \(paged.joined(separator: " AND ")) ORDER BY id \(backwards ? "DESC" : "ASC") LIMIT ?
                """, arguments: StatementArguments(pagedArguments))
            var messages = rows.prefix(query.limit).map { row in
                ArchivedMessage(bridge: row["bridge"], user: row["user"], room: row["room"], stanzaID: row["stanzaID"],
                                nick: row["nick"], body: row["body"], at: Date(timeIntervalSince1970: row["at"]))
            }
            if backwards { messages.reverse() }
            return ArchivePage(messages: messages, complete: rows.count <= query.limit, count: count)
        }
    }

    /// Removes archived messages older than `date`. Returns how many.
    @discardableResult
    public func pruneArchive(olderThan date: Date) async throws -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM roomArchive WHERE at < ?", arguments: [date.timeIntervalSince1970])
            return db.changesCount
        }
    }
}
