import GRDB

/// The store's migrations. Append new ones; never edit a migration that has shipped.
enum StoreSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "registration") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("bridge", .text).notNull()
                t.column("user", .text).notNull()
                // SQLite treats NULLs as distinct, so many users may have no legacy identity.
                t.column("legacyID", .text)
                t.column("fields", .text).notNull()
                t.column("sealedSecrets", .blob).notNull()
                t.column("staysConnected", .boolean).notNull().defaults(to: false)
                t.column("createdAt", .datetime).notNull()
                t.column("updatedAt", .datetime).notNull()
                t.uniqueKey(["bridge", "user"])
                t.uniqueKey(["bridge", "legacyID"])
            }
            try db.create(table: "contact") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("registrationID", .integer).notNull()
                    .references("registration", onDelete: .cascade)
                t.column("address", .text).notNull()
                t.column("name", .text)
                t.column("groups", .text).notNull().defaults(to: "[]")
                t.column("subscription", .text).notNull()
                    .check(sql: "subscription IN ('none', 'to', 'from', 'both')")
                // Also the index the foreign key's cascade uses.
                t.uniqueKey(["registrationID", "address"])
            }
            try db.create(table: "pendingStanza") { t in
                // AUTOINCREMENT: ids are never reused after deletes, so id order is delivery order.
                t.autoIncrementedPrimaryKey("id")
                t.column("bridge", .text).notNull()
                t.column("recipient", .text).notNull()
                t.column("stanza", .text).notNull()
                t.column("createdAt", .datetime).notNull()
            }
            try db.create(index: "pendingStanza_bridge_id", on: "pendingStanza", columns: ["bridge", "id"])
            try db.create(table: "sentMessage") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("bridge", .text).notNull()
                t.column("user", .text).notNull()
                t.column("xmppID", .text).notNull()
                t.column("peer", .text).notNull()
                t.column("legacyMessageID", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.uniqueKey(["bridge", "legacyMessageID"])
            }
            try db.create(index: "sentMessage_bridge_user", on: "sentMessage", columns: ["bridge", "user"])
            try db.create(index: "sentMessage_createdAt", on: "sentMessage", columns: ["createdAt"])
            try db.create(table: "seenEvent") { t in
                t.column("bridge", .text).notNull()
                t.column("key", .text).notNull()
                t.column("seenAt", .datetime).notNull()
                t.primaryKey(["bridge", "key"])
            }
            try db.create(index: "seenEvent_seenAt", on: "seenEvent", columns: ["seenAt"])
        }
        migrator.registerMigration("v2: contact settings") { db in
            // What a user set on one contact JID with the `configure` command (an IRC server's
            // ports, TLS and passwords); goes with the registration.
            try db.create(table: "contactSetting") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("registrationID", .integer).notNull()
                    .references("registration", onDelete: .cascade)
                t.column("address", .text).notNull()
                t.column("fields", .text).notNull()
                t.column("sealedSecrets", .blob).notNull()
                t.column("updatedAt", .datetime).notNull()
                t.uniqueKey(["registrationID", "address"])
            }
        }
        migrator.registerMigration("v3: room archive") { db in
            // Each user's own history of each room they were in (XEP-0313), written in batches.
            try db.create(table: "roomArchive") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("bridge", .text).notNull()
                t.column("user", .text).notNull()
                t.column("room", .text).notNull()
                // The XEP-0359 stanza-id the message went out with; MAM pages by it.
                t.column("stanzaID", .text).notNull().unique()
                t.column("nick", .text).notNull()
                t.column("body", .text).notNull()
                t.column("at", .double).notNull()  // seconds since 1970, for cheap range queries
            }
            try db.create(index: "roomArchive_room", on: "roomArchive", columns: ["bridge", "user", "room", "id"])
            try db.create(index: "roomArchive_at", on: "roomArchive", columns: ["at"])
        }
        return migrator
    }
}
