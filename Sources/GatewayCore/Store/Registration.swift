/// One user's registration on one bridge (XEP-0077), as the gateway core and bridges see it.
///
/// `secrets` are plain here, in memory only: the store seals them on write and opens them on
/// read, bound to this registration's bridge and user.
public struct Registration: Sendable, Hashable {
    /// The store's row id; `nil` until the registration is saved.
    public var id: Int64?
    /// The bridge's component domain, e.g. `sms.example.org`.
    public var bridge: String
    /// The user's bare JID.
    public var user: String
    /// The user's identity on the foreign network (a phone number, an IRC account…), unique per
    /// bridge; `nil` when the network has no such notion. An empty string is stored as `nil`.
    public var legacyID: String?
    /// Registration fields that are not secret (nick, server, username…).
    public var fields: [String: String]
    /// Registration fields that are secret (password, token…); sealed at rest.
    public var secrets: [String: String]
    /// Whether the bridge keeps the foreign session up while the user is offline.
    public var staysConnected: Bool

    public init(
        id: Int64? = nil, bridge: String, user: String, legacyID: String? = nil,
        fields: [String: String] = [:], secrets: [String: String] = [:], staysConnected: Bool = false
    ) {
        self.id = id
        self.bridge = bridge
        self.user = user
        self.legacyID = legacyID
        self.fields = fields
        self.secrets = secrets
        self.staysConnected = staysConnected
    }
}
