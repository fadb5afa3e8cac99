/// A contact of a registered user on the foreign network: one roster item of the bridge.
public struct Contact: Sendable, Hashable {
    /// The roster subscription state (RFC 6121 §2.1.2.5).
    public enum Subscription: String, Sendable, Hashable, CaseIterable {
        case none, to, from, both
    }

    /// The contact's legacy address as the bridge writes it, e.g. `+15551234567`.
    public var address: String
    /// The display name, if the foreign network gives one.
    public var name: String?
    /// Roster groups.
    public var groups: [String]
    public var subscription: Subscription

    public init(address: String, name: String? = nil, groups: [String] = [], subscription: Subscription = .none) {
        self.address = address
        self.name = name
        self.groups = groups
        self.subscription = subscription
    }
}
