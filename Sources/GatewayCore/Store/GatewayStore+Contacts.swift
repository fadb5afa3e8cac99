import GRDB

extension GatewayStore {
    /// The contacts of `user` on `bridge`, by address; empty when the user is not registered.
    public func contacts(bridge: String, user: String) async throws -> [Contact] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT contact.* FROM contact JOIN registration ON registration.id = contact.registrationID
                    WHERE registration.bridge = ? AND registration.user = ?
                    ORDER BY contact.address
                    """,
                arguments: [bridge, user]
            ).map(Self.contact(from:))
        }
    }

    /// Inserts the contact for `user` on `bridge`, or updates the one with the same address.
    ///
    /// - Throws: ``StoreError/notRegistered(bridge:user:)`` when the user has no registration.
    public func saveContact(_ contact: Contact, bridge: String, user: String) async throws {
        let groups = try Self.jsonText(contact.groups)
        try await write { db in
            guard let registrationID = try Self.registrationID(db, bridge: bridge, user: user) else {
                throw StoreError.notRegistered(bridge: bridge, user: user)
            }
            try db.execute(
                sql: """
                    INSERT INTO contact (registrationID, address, name, groups, subscription) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (registrationID, address) DO UPDATE
                    SET name = excluded.name, groups = excluded.groups, subscription = excluded.subscription
                    """,
                arguments: [registrationID, contact.address, contact.name, groups, contact.subscription.rawValue])
        }
    }

    /// Removes one contact of `user` on `bridge`. Returns whether there was one.
    @discardableResult
    public func deleteContact(bridge: String, user: String, address: String) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    DELETE FROM contact WHERE address = ? AND registrationID =
                    (SELECT id FROM registration WHERE bridge = ? AND user = ?)
                    """,
                arguments: [address, bridge, user])
            return db.changesCount > 0
        }
    }

    static func registrationID(_ db: Database, bridge: String, user: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT id FROM registration WHERE bridge = ? AND user = ?", arguments: [bridge, user])
    }

    private static func contact(from row: Row) throws -> Contact {
        let id: Int64 = row["id"]
        let subscriptionText: String = row["subscription"]
        guard let subscription = Contact.Subscription(rawValue: subscriptionText) else {
            throw StoreError.corruptRow(table: "contact", id: id, reason: "unknown subscription \(subscriptionText)")
        }
        return Contact(
            address: row["address"], name: row["name"],
            groups: try decodeJSON([String].self, row["groups"], table: "contact", id: id),
            subscription: subscription)
    }
}
