#if canImport(FoundationEssentials)
import FoundationEssentials  // not Foundation: its ICU clashes with libxml2's in modules that see CLibXML2
#else
import Foundation
#endif
import GRDB

extension GatewayStore {
    /// What `user` set on `address` with the `configure` command, secrets opened, or `nil`.
    public func contactSettings(bridge: String, user: String, address: String) async throws -> RegistrationRecord? {
        try await read { db in
            guard let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT contactSetting.* FROM contactSetting JOIN registration ON registration.id = contactSetting.registrationID
                    WHERE registration.bridge = ? AND registration.user = ? AND contactSetting.address = ?
                    """,
                arguments: [bridge, user, address])
            else { return nil }
            let id: Int64 = row["id"]
            let sealed: Data = row["sealedSecrets"]
            let opened: [UInt8]
            do {
                opened = try self.vault.open(Array(sealed), associatedData: Self.contactSettingBinding(bridge: bridge, user: user, address: address))
            } catch {
                throw StoreError.vaultCannotOpen(bridge: bridge, user: user)
            }
            return RegistrationRecord(
                legacyID: nil,
                fields: try Self.decodeJSON([String: String].self, row["fields"], table: "contactSetting", id: id),
                secrets: try Self.decodeJSON([String: String].self, String(decoding: opened, as: UTF8.self), table: "contactSetting", id: id))
        }
    }

    /// Stores what `user` set on `address`, replacing what was there.
    ///
    /// - Throws: ``StoreError/notRegistered(bridge:user:)`` when the user has no registration.
    public func saveContactSettings(_ record: RegistrationRecord, bridge: String, user: String, address: String) async throws {
        let fields = try Self.jsonText(record.fields)
        let secrets = try Self.jsonText(record.secrets)
        let sealed = Data(vault.seal(Array(secrets.utf8), associatedData: Self.contactSettingBinding(bridge: bridge, user: user, address: address)))
        let now = StoreDate.databaseValue(Date())
        try await write { db in
            guard let registrationID = try Self.registrationID(db, bridge: bridge, user: user) else {
                throw StoreError.notRegistered(bridge: bridge, user: user)
            }
            try db.execute(
                sql: """
                    INSERT INTO contactSetting (registrationID, address, fields, sealedSecrets, updatedAt) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (registrationID, address) DO UPDATE
                    SET fields = excluded.fields, sealedSecrets = excluded.sealedSecrets, updatedAt = excluded.updatedAt
                    """,
                arguments: [registrationID, address, fields, sealed, now])
        }
    }

    /// Binds a sealed settings blob to its bridge, user and address, length-prefixed like
    /// ``secretsBinding(bridge:user:)`` so no two triples give the same bytes.
    static func contactSettingBinding(bridge: String, user: String, address: String) -> [UInt8] {
        var bytes = Array("causeway.contact-setting.secrets.v1\u{0}".utf8)
        for part in [bridge, user] {
            let partBytes = Array(part.utf8)
            let count = UInt32(truncatingIfNeeded: partBytes.count)
            bytes += [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
            bytes += partBytes
        }
        bytes += Array(address.utf8)
        return bytes
    }
}
