#if canImport(FoundationEssentials)
import FoundationEssentials  // not Foundation: its ICU clashes with libxml2's in modules that see CLibXML2
#else
import Foundation
#endif
import GRDB

/// The gateway's durable state in SQLite: registrations with sealed credentials, contacts,
/// stanzas waiting for a link, sent-message ids for delivery reports, and inbound events
/// already handled.
///
/// Safe to share between actors: GRDB serializes writes and runs reads concurrently
/// (a `DatabasePool` in WAL mode for a file).
public final class GatewayStore: Sendable {
    /// The database file, or `:memory:`.
    public let path: String
    let writer: any DatabaseWriter
    let vault: CredentialVault

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// - Throws: ``StoreError`` — the file cannot be opened, is not a database, is locked, or
    ///   was written by a newer Causeway.
    public convenience init(path: String, vault: CredentialVault) throws {
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: Self.configuration())
        } catch {
            throw Self.translate(error, path: path)
        }
        try self.init(writer: pool, path: path, vault: vault)
    }

    /// A store that lives in memory and disappears with it; for tests.
    public static func inMemory(vault: CredentialVault) throws -> GatewayStore {
        let queue = try DatabaseQueue(configuration: configuration())
        return try GatewayStore(writer: queue, path: ":memory:", vault: vault)
    }

    private init(writer: any DatabaseWriter, path: String, vault: CredentialVault) throws {
        self.writer = writer
        self.path = path
        self.vault = vault
        let migrator = StoreSchema.migrator
        do {
            // Migrating a newer database would run no migration and then misread its rows.
            if try writer.read({ try migrator.hasBeenSuperseded($0) }) {
                throw StoreError.newerSchema(path: path)
            }
            try migrator.migrate(writer)
        } catch {
            throw Self.translate(error, path: path)
        }
    }

    private static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // A second process (a backup, an admin's sqlite3) may hold the lock for a moment.
        configuration.busyMode = .timeout(5)
        configuration.label = "causeway.store"
        // Reads take microseconds and the hot ones are cached in the gateway, so one reader per
        // two cores keeps up; each reader is a serial dispatch queue that, when busy, holds an
        // overcommit thread (with its stack and malloc arena) and a page cache of its own
        // (SQLite allocates 20 pages at once for it). GRDB's default of five added ten threads
        // and ~1 MiB the first time a hundred users came online at once; on two cores a second
        // reader, opened by that burst, still added 200–300 KiB.
        configuration.maximumReaderCount = max(1, ProcessInfo.processInfo.activeProcessorCount / 2)
        return configuration
    }

    // MARK: - Access, with errors that say what went wrong

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await writer.read(body)
        } catch {
            throw Self.translate(error, path: path)
        }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await writer.write(body)
        } catch {
            throw Self.translate(error, path: path)
        }
    }

    static func translate(_ error: any Error, path: String) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        let message = error.message ?? "\(error)"
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: return StoreError.locked(path: path)
        case .SQLITE_NOTADB: return StoreError.notADatabase(path: path)
        case .SQLITE_CANTOPEN: return StoreError.cannotOpen(path: path, reason: message)
        default: return StoreError.database(path: path, message: message)
        }
    }

    // MARK: - JSON columns

    static func jsonText<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // stable bytes: equal values give equal rows
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String, table: String, id: Int64) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw StoreError.corruptRow(table: table, id: id, reason: "its JSON does not parse as \(type)")
        }
    }
}
