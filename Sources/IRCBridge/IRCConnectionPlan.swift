/// Everything needed to connect one user to one IRC server, merged from the admin's server
/// table, the user's own settings for that server and their registration.
struct IRCConnectionPlan: Sendable {
    /// The host to resolve, and the name a TLS certificate must carry.
    var host: String
    /// Ports to try in order while the server cannot be reached.
    var ports: [UInt16]
    var tls: Bool
    var verification: IRCTLSRelay.Verification
    var password: String?
    var nick: String
    var username: String
    var realname: String
    var sasl: IRCTLSRelay.SASLCredentials?
    /// Raw lines to send once registered (NickServ IDENTIFY, the user's commands).
    var afterConnect: [String]
}
