/// What an admin sets for one IRC server in `bridge.toml` (`[irc.servers.NAME]`).
///
/// `NAME` is what JIDs say (`#swift%NAME@irc.example.org`); `address` is where the server is
/// now. Renaming the host in one place keeps every user's roster and bookmarks working: this is
/// the server alias. The same table sets defaults for a server by its own name.
public struct IRCServerSettings: Sendable, Hashable {
    /// The host to connect to; `nil` means the name itself.
    public var address: String?
    /// Ports to try, in order; `nil` means the bridge's port.
    public var ports: [UInt16]?
    public var tls: Bool?
    public var verifyCertificates: Bool?

    public init(address: String? = nil, ports: [UInt16]? = nil, tls: Bool? = nil, verifyCertificates: Bool? = nil) {
        self.address = address
        self.ports = ports
        self.tls = tls
        self.verifyCertificates = verifyCertificates
    }
}
