// The user name and password the relay sends with SASL PLAIN (RFC 4616), and the one check
// that keeps them from ever breaking an IRC line.

extension IRCTLSRelay {
    /// A SASL PLAIN login. The user name is sent as both the authorization and the
    /// authentication identity, as IRC services expect. `description` never shows the password.
    public struct SASLCredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
        public var username: String
        public var password: String

        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }

        public var description: String { "SASLCredentials(username: \(username), password: <redacted>)" }
        public var debugDescription: String { description }

        /// Throws `.invalidCredentials` for an empty user name or a CR, LF or NUL anywhere: the
        /// payload is base64 on the wire, but a NUL would shift PLAIN's fields, and the design
        /// rule is that no such byte from a user reaches the IRC side at all.
        func validate() throws(IRCTLSError) {
            if username.isEmpty { throw .invalidCredentials("the user name is empty") }
            for (what, value) in [("user name", username), ("password", password)]
            where value.utf8.contains(where: { $0 == 0x00 || $0 == 0x0A || $0 == 0x0D }) {
                throw .invalidCredentials("the \(what) contains a line break or a NUL character")
            }
        }

        /// The PLAIN message, base64: `authzid NUL authcid NUL password`.
        var plainMessage: String {
            Base64.encode(Array(username.utf8) + [0] + Array(username.utf8) + [0] + Array(password.utf8))
        }
    }
}
