/// Who may use a bridge, and who administers it.
public struct GatewayPolicy: Sendable, Hashable {
    /// Domains whose users may register; a user of any other domain gets `forbidden`.
    public var allowedDomains: Set<String>
    /// Bare JIDs of admins: they get the admin ad-hoc commands.
    public var admins: Set<String>
    /// Room history: whether it is kept, how much, and how much is replayed on join.
    public var history: RoomArchive.Policy

    public init(allowedDomains: Set<String>, admins: Set<String> = [], history: RoomArchive.Policy = .init()) {
        self.allowedDomains = Set(allowedDomains.map { $0.lowercased() })
        self.admins = Set(admins.map { $0.lowercased() })
        self.history = history
    }
}
