/// What the gateway keeps in memory about a registered user, read from the store at once.
public struct StoredUser: Sendable {
    public var registration: Registration
    /// The addresses in the user's roster on this bridge.
    public var contactAddresses: Set<String>
    /// The addresses the user configured with the `configure` command (per-contact settings).
    public var configuredAddresses: Set<String>
}
