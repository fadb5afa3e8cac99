#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GRDB
import XCTest
@testable import GatewayCore

final class GatewayStoreTests: XCTestCase {
    private let bridge = "sms.example.org"
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func vault(_ byte: UInt8 = 1) throws -> CredentialVault {
        try CredentialVault(key: [UInt8](repeating: byte, count: 32))
    }

    private var databasePath: String { folder.appendingPathComponent("causeway.sqlite").path }

    private func alice(legacyID: String? = "+15550001111") -> Registration {
        Registration(
            bridge: bridge, user: "alice@example.org", legacyID: legacyID,
            fields: ["username": "alice"], secrets: ["password": "s3cret-hunter2", "token": "tok-abc"])
    }

    private func assertStoreError(
        _ expected: StoreError, file: StaticString = #filePath, line: UInt = #line, _ body: () async throws -> Void
    ) async {
        do {
            try await body()
            XCTFail("expected \(expected)", file: file, line: line)
        } catch let error as StoreError {
            XCTAssertEqual(error, expected, file: file, line: line)
        } catch {
            XCTFail("expected \(expected), got \(error)", file: file, line: line)
        }
    }

    // MARK: - Registrations

    func testSaveReadAndUpdateRegistration() async throws {
        let store = try GatewayStore.inMemory(vault: vault())
        let saved = try await store.save(alice())
        XCTAssertNotNil(saved.id)
        let read = try await store.registration(bridge: bridge, user: "alice@example.org")
        XCTAssertEqual(read, saved)
        let byLegacyID = try await store.registration(bridge: bridge, legacyID: "+15550001111")
        XCTAssertEqual(byLegacyID, saved)
        let unknown = try await store.registration(bridge: bridge, legacyID: "+15559999999")
        XCTAssertNil(unknown)
        XCTAssertEqual(read?.secrets["password"], "s3cret-hunter2")

        var changed = saved
        changed.secrets["password"] = "n3w-pass"
        changed.fields["nick"] = "al"
        changed.staysConnected = true
        changed.id = nil  // found by (bridge, user), not by id
        let updated = try await store.save(changed)
        XCTAssertEqual(updated.id, saved.id)
        let reread = try await store.registration(bridge: bridge, user: "alice@example.org")
        XCTAssertEqual(reread?.secrets, ["password": "n3w-pass", "token": "tok-abc"])
        XCTAssertEqual(reread?.fields, ["username": "alice", "nick": "al"])
        XCTAssertEqual(reread?.staysConnected, true)
        let all = try await store.registrations(bridge: bridge)
        XCTAssertEqual(all.count, 1)
        let none = try await store.registration(bridge: "irc.example.org", user: "alice@example.org")
        XCTAssertNil(none)
    }

    func testSecretsAreSealedInTheDatabase() async throws {
        let store = try GatewayStore.inMemory(vault: vault())
        try await store.save(alice())
        let (sealed, texts, fields) = try await store.writer.read { db -> (Data, [String], String) in
            let row = try Row.fetchOne(db, sql: "SELECT * FROM registration")!
            return (row["sealedSecrets"], row.columnNames.compactMap { String.fromDatabaseValue(row[$0]) }, row["fields"])
        }
        XCTAssertNil(sealed.range(of: Data("s3cret-hunter2".utf8)))
        XCTAssertNil(sealed.range(of: Data("tok-abc".utf8)))
        for text in texts {
            XCTAssertFalse(text.contains("s3cret") || text.contains("tok-abc"), text)
        }
        XCTAssertEqual(fields, #"{"username":"alice"}"#)
    }

    func testLegacyIDIsUniquePerBridge() async throws {
        let store = try GatewayStore.inMemory(vault: vault())
        try await store.save(alice())
        try await store.save(alice())  // the same user saving again is fine

        await assertStoreError(.legacyIDTaken(by: "alice@example.org")) {
            try await store.save(Registration(bridge: self.bridge, user: "bob@example.org", legacyID: "+15550001111"))
        }
        let bob = try await store.registration(bridge: bridge, user: "bob@example.org")
        XCTAssertNil(bob, "a failed save leaves nothing behind")

        // Another bridge may hold the same legacy id; many users may have none.
        try await store.save(Registration(bridge: "sms2.example.org", user: "bob@example.org", legacyID: "+15550001111"))
        try await store.save(Registration(bridge: bridge, user: "carol@example.org", legacyID: nil))
        try await store.save(Registration(bridge: bridge, user: "dave@example.org", legacyID: ""))
        let dave = try await store.registration(bridge: bridge, user: "dave@example.org")
        XCTAssertNil(dave?.legacyID)

        // Updating an existing user to a taken id is refused too, and leaves the row as it was.
        try await store.save(Registration(bridge: bridge, user: "bob@example.org", legacyID: "+15550002222"))
        await assertStoreError(.legacyIDTaken(by: "alice@example.org")) {
            try await store.save(Registration(bridge: self.bridge, user: "bob@example.org", legacyID: "+15550001111"))
        }
        let unchanged = try await store.registration(bridge: bridge, user: "bob@example.org")
        XCTAssertEqual(unchanged?.legacyID, "+15550002222")
        XCTAssertTrue(StoreError.legacyIDTaken(by: "alice@example.org").description.contains("alice@example.org"))
    }

    func testDeleteRegistrationTakesItsContactsPendingAndSentMessages() async throws {
        let store = try GatewayStore.inMemory(vault: vault())
        try await store.save(alice())
        try await store.save(Registration(bridge: bridge, user: "bob@example.org"))
        for user in ["alice@example.org", "bob@example.org"] {
            try await store.saveContact(Contact(address: "+15557654321", subscription: .both), bridge: bridge, user: user)
            try await store.enqueuePending(bridge: bridge, recipient: user, stanza: "<message/>")
            try await store.recordSent([SentMessage(bridge: bridge, user: user, xmppID: "x-\(user)", peer: "+1555", legacyMessageID: "L-\(user)", createdAt: Date())])
        }

        let deleted = try await store.deleteRegistration(bridge: bridge, user: "alice@example.org")
        XCTAssertTrue(deleted)
        let again = try await store.deleteRegistration(bridge: bridge, user: "alice@example.org")
        XCTAssertFalse(again)

        let aliceContacts = try await store.contacts(bridge: bridge, user: "alice@example.org")
        XCTAssertEqual(aliceContacts, [])
        let contactRows = try await store.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM contact") }
        XCTAssertEqual(contactRows, 1, "the cascade removed only alice's contact")
        let pending = try await store.pending(bridge: bridge)
        XCTAssertEqual(pending.map(\.recipient), ["bob@example.org"])
        let aliceSent = try await store.sentMessage(bridge: bridge, legacyMessageID: "L-alice@example.org")
        XCTAssertNil(aliceSent)
        let bobSent = try await store.sentMessage(bridge: bridge, legacyMessageID: "L-bob@example.org")
        XCTAssertEqual(bobSent?.xmppID, "x-bob@example.org")
    }

    func testAnotherVaultKeyCannotOpenRegistrations() async throws {
        do {
            let store = try GatewayStore(path: databasePath, vault: vault(1))
            try await store.save(alice())
        }
        let store = try GatewayStore(path: databasePath, vault: vault(2))
        await assertStoreError(.vaultCannotOpen(bridge: bridge, user: "alice@example.org")) {
            _ = try await store.registration(bridge: self.bridge, user: "alice@example.org")
        }
        XCTAssertTrue(
            StoreError.vaultCannotOpen(bridge: bridge, user: "alice@example.org").description
                .contains("the vault key does not match the one this database was written with"))
    }

    func testSealedSecretsCannotMoveToAnotherRow() async throws {
        let store = try GatewayStore.inMemory(vault: vault())
        try await store.save(alice())
        try await store.save(Registration(bridge: bridge, user: "mallory@example.org", secrets: ["password": "x"]))
        try await store.writer.write { db in
            try db.execute(sql: """
                UPDATE registration SET sealedSecrets = (SELECT sealedSecrets FROM registration WHERE user = 'alice@example.org')
                WHERE user = 'mallory@example.org'
                """)
        }
        await assertStoreError(.vaultCannotOpen(bridge: bridge, user: "mallory@example.org")) {
            _ = try await store.registration(bridge: self.bridge, user: "mallory@example.org")
        }
    }

    // MARK: - Contacts

    func testContactsUpsertAndDelete() async throws {
        let store = try GatewayStore.inMemory(vault: vault())
        await assertStoreError(.notRegistered(bridge: bridge, user: "alice@example.org")) {
            try await store.saveContact(Contact(address: "+15557654321"), bridge: self.bridge, user: "alice@example.org")
        }
        try await store.save(alice())
        try await store.saveContact(Contact(address: "+15557654321", name: "Bob", groups: ["SMS"], subscription: .to), bridge: bridge, user: "alice@example.org")
        try await store.saveContact(Contact(address: "+15550000000"), bridge: bridge, user: "alice@example.org")
        try await store.saveContact(Contact(address: "+15557654321", name: "Bobby", groups: ["SMS", "Work"], subscription: .both), bridge: bridge, user: "alice@example.org")

        let contacts = try await store.contacts(bridge: bridge, user: "alice@example.org")
        XCTAssertEqual(contacts, [
            Contact(address: "+15550000000", name: nil, groups: [], subscription: .none),
            Contact(address: "+15557654321", name: "Bobby", groups: ["SMS", "Work"], subscription: .both),
        ])
        let deleted = try await store.deleteContact(bridge: bridge, user: "alice@example.org", address: "+15550000000")
        XCTAssertTrue(deleted)
        let missing = try await store.deleteContact(bridge: bridge, user: "alice@example.org", address: "+15550000000")
        XCTAssertFalse(missing)
        let left = try await store.contacts(bridge: bridge, user: "alice@example.org")
        XCTAssertEqual(left.map(\.address), ["+15557654321"])
    }

    // MARK: - Pending stanzas, sent messages, seen events

    func testPendingOrderSurvivesARestart() async throws {
        var ids: [Int64] = []
        do {
            let store = try GatewayStore(path: databasePath, vault: vault())
            for n in 1 ... 5 {
                ids.append(try await store.enqueuePending(bridge: bridge, recipient: "alice@example.org", stanza: "<message id='\(n)'/>"))
            }
            try await store.enqueuePending(bridge: "irc.example.org", recipient: "alice@example.org", stanza: "<presence/>")
            try await store.deletePending(ids: [ids[0]])
        }

        let store = try GatewayStore(path: databasePath, vault: vault())
        let count = try await store.pendingCount(bridge: bridge)
        XCTAssertEqual(count, 4)
        let firstTwo = try await store.pending(bridge: bridge, limit: 2)
        XCTAssertEqual(firstTwo.map(\.stanza), ["<message id='2'/>", "<message id='3'/>"])
        try await store.deletePending(ids: firstTwo.map(\.id))

        // Ids keep increasing after deletes and restarts, so new stanzas go after old ones.
        let next = try await store.enqueuePending(bridge: bridge, recipient: "alice@example.org", stanza: "<message id='6'/>")
        XCTAssertGreaterThan(next, ids.max()! + 1)
        let rest = try await store.pending(bridge: bridge)
        XCTAssertEqual(rest.map(\.stanza), ["<message id='4'/>", "<message id='5'/>", "<message id='6'/>"])
        let otherBridge = try await store.pendingCount(bridge: "irc.example.org")
        XCTAssertEqual(otherBridge, 1)
    }

    func testEnqueueOnceForAKeyAndReadAfterAnID() async throws {
        let store = try GatewayStore.inMemory(vault: vault())
        let first = try await store.enqueuePending(bridge: bridge, recipient: "alice@example.org", stanza: "<a/>", onceFor: "message:C-1")
        let repeated = try await store.enqueuePending(bridge: bridge, recipient: "alice@example.org", stanza: "<a/>", onceFor: "message:C-1")
        let unkeyed = try await store.enqueuePending(bridge: bridge, recipient: "alice@example.org", stanza: "<b/>", onceFor: nil)
        XCTAssertNotNil(first)
        XCTAssertNil(repeated)
        let second = try XCTUnwrap(unkeyed)
        let count = try await store.pendingCount(bridge: bridge)
        XCTAssertEqual(count, 2)
        let seenAgain = try await store.markSeen(bridge: bridge, key: "message:C-1")
        XCTAssertFalse(seenAgain, "the key was recorded with the stanza")

        let after = try await store.pending(bridge: bridge, after: try XCTUnwrap(first))
        XCTAssertEqual(after.map(\.id), [second])
        XCTAssertEqual(after.first?.stanza, "<b/>")
    }

    func testSentMessageMapping() async throws {
        let store = try GatewayStore.inMemory(vault: vault())
        try await store.recordSent([SentMessage(bridge: bridge, user: "alice@example.org", xmppID: "m1", peer: "+15557654321", legacyMessageID: "C-1", createdAt: Date())])
        let sent = try await store.sentMessage(bridge: bridge, legacyMessageID: "C-1")
        XCTAssertEqual(sent?.xmppID, "m1")
        XCTAssertEqual(sent?.peer, "+15557654321")
        XCTAssertEqual(sent?.user, "alice@example.org")
        let elsewhere = try await store.sentMessage(bridge: "sms2.example.org", legacyMessageID: "C-1")
        XCTAssertNil(elsewhere)

        try await store.recordSent([SentMessage(bridge: bridge, user: "alice@example.org", xmppID: "m2", peer: "+15557654321", legacyMessageID: "C-1", createdAt: Date())])
        let replaced = try await store.sentMessage(bridge: bridge, legacyMessageID: "C-1")
        XCTAssertEqual(replaced?.xmppID, "m2")

        let pruned = try await store.pruneSent(olderThan: Date().addingTimeInterval(60))
        XCTAssertEqual(pruned, 1)
    }

    func testMarkSeenIsExactlyOnce() async throws {
        let store = try GatewayStore(path: databasePath, vault: vault())
        let first = try await store.markSeen(bridge: bridge, key: "carrier-msg-1")
        let second = try await store.markSeen(bridge: bridge, key: "carrier-msg-1")
        let otherBridge = try await store.markSeen(bridge: "sms2.example.org", key: "carrier-msg-1")
        XCTAssertEqual([first, second, otherBridge], [true, false, true])

        // Concurrent deliveries of one event: exactly one is told to handle it.
        let bridge = self.bridge
        let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0 ..< 20 {
                group.addTask { try await store.markSeen(bridge: bridge, key: "replayed") }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        XCTAssertEqual(winners, 1)

        // Across a restart, too.
        let reopened = try GatewayStore(path: databasePath, vault: vault())
        let afterRestart = try await reopened.markSeen(bridge: bridge, key: "carrier-msg-1")
        XCTAssertFalse(afterRestart)
    }

    func testPruneSeen() async throws {
        let store = try GatewayStore.inMemory(vault: vault())
        let now = Date()
        _ = try await store.markSeen(bridge: bridge, key: "old", at: now.addingTimeInterval(-3 * 86400))
        _ = try await store.markSeen(bridge: bridge, key: "new", at: now)
        let pruned = try await store.pruneSeen(olderThan: now.addingTimeInterval(-86400))
        XCTAssertEqual(pruned, 1)
        let oldAgain = try await store.markSeen(bridge: bridge, key: "old")
        let newAgain = try await store.markSeen(bridge: bridge, key: "new")
        XCTAssertEqual([oldAgain, newAgain], [true, false])
    }

    // MARK: - Opening the database

    func testReopenKeepsDataAndMigratesOnce() async throws {
        do {
            let store = try GatewayStore(path: databasePath, vault: vault())
            try await store.save(alice())
        }
        let store = try GatewayStore(path: databasePath, vault: vault())
        let again = try GatewayStore(path: databasePath, vault: vault())
        let migrations = try await store.writer.read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations") }
        XCTAssertEqual(migrations, ["v1", "v2: contact settings", "v3: room archive"])
        let read = try await again.registration(bridge: bridge, user: "alice@example.org")
        XCTAssertEqual(read?.secrets["password"], "s3cret-hunter2")
        let pragmas = try await store.writer.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA foreign_keys"))
        }
        XCTAssertEqual(pragmas.0, "wal")
        XCTAssertEqual(pragmas.1, 1)
    }

    func testDatabaseFromANewerVersionIsRefused() async throws {
        do {
            let store = try GatewayStore(path: databasePath, vault: vault())
            try await store.writer.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99')") }
        }
        XCTAssertThrowsError(try GatewayStore(path: databasePath, vault: vault())) { error in
            XCTAssertEqual(error as? StoreError, .newerSchema(path: self.databasePath))
        }
    }

    func testLockErrorsSayTheDatabaseIsLocked() {
        let busy = GatewayStore.translate(DatabaseError(resultCode: .SQLITE_BUSY), path: "/var/lib/causeway/db.sqlite")
        XCTAssertEqual(busy as? StoreError, .locked(path: "/var/lib/causeway/db.sqlite"))
        XCTAssertTrue("\(busy)".contains("locked by another process"))
        XCTAssertTrue(GatewayStore.translate(CancellationError(), path: "x") is CancellationError)
    }

    func testUnusableFilesGiveClearErrors() throws {
        let junk = folder.appendingPathComponent("junk.sqlite").path
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: junk))
        XCTAssertThrowsError(try GatewayStore(path: junk, vault: vault())) { error in
            XCTAssertEqual(error as? StoreError, .notADatabase(path: junk))
        }
        let nowhere = folder.appendingPathComponent("missing/folder/causeway.sqlite").path
        XCTAssertThrowsError(try GatewayStore(path: nowhere, vault: vault())) { error in
            guard case .cannotOpen(let path, _)? = error as? StoreError else {
                return XCTFail("expected cannotOpen, got \(error)")
            }
            XCTAssertEqual(path, nowhere)
            XCTAssertTrue("\(error)".contains("check that its folder exists"), "\(error)")
        }
    }
}
