/// Why the gateway's store could not do what was asked.
///
/// Messages name the database and what to check, so an admin can act on a log line.
public enum StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The database file could not be opened or created.
    case cannotOpen(path: String, reason: String)
    /// The file exists but is not a SQLite database.
    case notADatabase(path: String)
    /// Another process (or a stuck transaction) holds the database's lock past the busy timeout.
    case locked(path: String)
    /// The database was written by a newer Causeway, with migrations this build does not know.
    case newerSchema(path: String)
    /// Another user of the same bridge is already registered with this foreign identity.
    case legacyIDTaken(by: String)
    /// The user has no registration on the bridge (for operations that need one).
    case notRegistered(bridge: String, user: String)
    /// A row's sealed secrets cannot be opened with this vault's key.
    case vaultCannotOpen(bridge: String, user: String)
    /// A row holds something the store never writes (e.g. unparseable JSON).
    case corruptRow(table: String, id: Int64, reason: String)
    /// Any other database failure, with SQLite's own message.
    case database(path: String, message: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            return "cannot open the database \(path): \(reason); check that its folder exists and is writable by the daemon's user"
        case .notADatabase(let path):
            return "\(path) is not a SQLite database (or it is encrypted or damaged); point the database path at another file"
        case .locked(let path):
            return "the database \(path) is locked by another process; stop the other causeway (or tool) using it, or wait and retry"
        case .newerSchema(let path):
            return "the database \(path) was written by a newer version of Causeway; upgrade Causeway or use a backup from before the upgrade"
        case .legacyIDTaken(let user):
            return "that account on the foreign network is already registered by \(user)"
        case .notRegistered(let bridge, let user):
            return "\(user) is not registered on \(bridge)"
        case .vaultCannotOpen(let bridge, let user):
            return "the credentials of \(user) on \(bridge) cannot be opened: the vault key does not match the one this database was written with (or the row was altered)"
        case .corruptRow(let table, let id, let reason):
            return "row \(id) of table \(table) is damaged: \(reason)"
        case .database(let path, let message):
            return "database \(path): \(message)"
        }
    }
}
