#if canImport(FoundationEssentials)
import FoundationEssentials  // not Foundation: its ICU clashes with libxml2's in modules that see CLibXML2
#else
import Foundation
#endif
import GRDB

extension GatewayStore {
    /// The registration of `user` (a bare JID) on `bridge`, secrets opened, or `nil`.
    public func registration(bridge: String, user: String) async throws -> Registration? {
        try await read { db in
            try Self.registrationRow(db, bridge: bridge, user: user).map(self.registration(from:))
        }
    }

    /// The registration of `user` on `bridge` with the addresses of their contacts and of the
    /// contacts they configured, in one read: a user's first stanza needs all three soon (the
    /// login watches the contacts, each connection asks for its settings), and after a restart
    /// every user's client comes back within a second, so the reads queue on the one reader.
    public func user(bridge: String, user: String) async throws -> StoredUser? {
        try await read { db in
            guard let row = try Self.registrationRow(db, bridge: bridge, user: user) else { return nil }
            let registration = try self.registration(from: row)
            let id: Int64 = row["id"]
            return StoredUser(
                registration: registration,
                contactAddresses: try String.fetchSet(db, sql: "SELECT address FROM contact WHERE registrationID = ?", arguments: [id]),
                configuredAddresses: try String.fetchSet(db, sql: "SELECT address FROM contactSetting WHERE registrationID = ?", arguments: [id])
            )
        }
    }

    private static func registrationRow(_ db: Database, bridge: String, user: String) throws -> Row? {
        try Row.fetchOne(db, sql: "SELECT * FROM registration WHERE bridge = ? AND user = ?", arguments: [bridge, user])
    }

    /// The registration on `bridge` whose foreign identity is `legacyID`, or `nil`; for routing
    /// what arrives from the foreign network (e.g. an SMS to a phone number) to its user.
    public func registration(bridge: String, legacyID: String) async throws -> Registration? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM registration WHERE bridge = ? AND legacyID = ?", arguments: [bridge, legacyID])
                .map(self.registration(from:))
        }
    }

    /// Every registration on `bridge`, oldest first; for logging users in at start-up.
    public func registrations(bridge: String) async throws -> [Registration] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM registration WHERE bridge = ? ORDER BY id", arguments: [bridge])
                .map(self.registration(from:))
        }
    }

    /// Inserts the registration, or replaces the one of the same bridge and user (its `id` is
    /// not used to find it). Returns it as stored, with its `id`.
    ///
    /// - Throws: ``StoreError/legacyIDTaken(by:)`` when another user of the bridge already has
    ///   this `legacyID`.
    @discardableResult
    public func save(_ registration: Registration) async throws -> Registration {
        var saved = registration
        if saved.legacyID?.isEmpty == true { saved.legacyID = nil }
        let fields = try Self.jsonText(saved.fields)
        let secrets = try Self.jsonText(saved.secrets)
        let sealed = Data(vault.seal(Array(secrets.utf8), associatedData: Self.secretsBinding(bridge: saved.bridge, user: saved.user)))
        let now = StoreDate.databaseValue(Date())
        return try await write { [saved] db in
            var saved = saved
            let existing = try Int64.fetchOne(
                db, sql: "SELECT id FROM registration WHERE bridge = ? AND user = ?", arguments: [saved.bridge, saved.user])
            do {
                if let existing {
                    try db.execute(
                        sql: """
                            UPDATE registration SET legacyID = ?, fields = ?, sealedSecrets = ?, staysConnected = ?, updatedAt = ?
                            WHERE id = ?
                            """,
                        arguments: [saved.legacyID, fields, sealed, saved.staysConnected, now, existing])
                    saved.id = existing
                } else {
                    try db.execute(
                        sql: """
                            INSERT INTO registration (bridge, user, legacyID, fields, sealedSecrets, staysConnected, createdAt, updatedAt)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [saved.bridge, saved.user, saved.legacyID, fields, sealed, saved.staysConnected, now, now])
                    saved.id = db.lastInsertedRowID
                }
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                // (bridge, user) was looked up in this same transaction, so the clash is the legacy id.
                let holder = try String.fetchOne(
                    db, sql: "SELECT user FROM registration WHERE bridge = ? AND legacyID = ?",
                    arguments: [saved.bridge, saved.legacyID])
                throw StoreError.legacyIDTaken(by: holder ?? "another user")
            }
            return saved
        }
    }

    /// Removes the registration of `user` on `bridge` with its contacts, its queued stanzas and
    /// its sent-message ids. Returns whether there was one.
    @discardableResult
    public func deleteRegistration(bridge: String, user: String) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM pendingStanza WHERE bridge = ? AND recipient = ?", arguments: [bridge, user])
            try db.execute(sql: "DELETE FROM sentMessage WHERE bridge = ? AND user = ?", arguments: [bridge, user])
            // Contacts go by ON DELETE CASCADE.
            try db.execute(sql: "DELETE FROM registration WHERE bridge = ? AND user = ?", arguments: [bridge, user])
            return db.changesCount > 0
        }
    }

    /// The associated data that binds a sealed secrets blob to its row. Length-prefixed so that
    /// no two (bridge, user) pairs give the same bytes.
    static func secretsBinding(bridge: String, user: String) -> [UInt8] {
        let bridgeBytes = Array(bridge.utf8)
        let count = UInt32(truncatingIfNeeded: bridgeBytes.count)
        var bytes = Array("causeway.registration.secrets.v1\u{0}".utf8)
        bytes += [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
        bytes += bridgeBytes
        bytes += Array(user.utf8)
        return bytes
    }

    private func registration(from row: Row) throws -> Registration {
        let id: Int64 = row["id"]
        let bridge: String = row["bridge"]
        let user: String = row["user"]
        let sealed: Data = row["sealedSecrets"]
        let opened: [UInt8]
        do {
            opened = try vault.open(Array(sealed), associatedData: Self.secretsBinding(bridge: bridge, user: user))
        } catch {
            throw StoreError.vaultCannotOpen(bridge: bridge, user: user)
        }
        return Registration(
            id: id, bridge: bridge, user: user, legacyID: row["legacyID"],
            fields: try Self.decodeJSON([String: String].self, row["fields"], table: "registration", id: id),
            secrets: try Self.decodeJSON([String: String].self, String(decoding: opened, as: UTF8.self), table: "registration", id: id),
            staysConnected: row["staysConnected"])
    }
}
