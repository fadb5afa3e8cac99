/// A foreign ("legacy") identity as the gateway carries it in a JID localpart.
///
/// The localpart is `legacy%host` (or just `legacy` for networks without
/// hosts, such as SMS), XEP-0106-escaped so it is a valid localpart:
///
/// | legacy          | host              | localpart                 |
/// |-----------------|-------------------|---------------------------|
/// | `#swift`        | `irc.libera.chat` | `#swift%irc.libera.chat`  |
/// | `o'brien`       | `example.com`     | `o\27brien%example.com`   |
/// | `+15551234567`  | `nil`             | `+15551234567`            |
///
/// Reading splits at the *last* `%`: host names never contain `%`, but mail
/// local parts and IRC channel names can (`we%ird%irc.example` is legacy
/// `we%ird` on `irc.example`). It follows that a host-less legacy value that
/// contains `%` does not survive the round trip; give such networks a host.
///
/// JID localparts are lowercased (RFC 7622 case mapping), so `legacy` and
/// `host` read from a JID are lowercase: a bridge whose network is
/// case-sensitive must recover the original case some other way.
///
/// Characters XEP-0106 cannot escape (whitespace other than U+0020, control
/// characters) make ``jid(domain:resource:)`` throw.
public struct LegacyAddress: Sendable, Hashable {
    /// The identity on the foreign network: a nick, channel, phone number or mailbox.
    public var legacy: String
    /// The foreign server or network, or `nil` when the network has just one.
    public var host: String?

    /// An address from its parts, as a bridge knows them.
    public init(legacy: String, host: String? = nil) {
        self.legacy = legacy
        self.host = host
    }

    /// Reads an address from an (escaped) JID localpart.
    ///
    /// Returns `nil` when the localpart is empty, or when `%` leaves an empty
    /// legacy part (`%irc.example`) or an empty host (`alice%`).
    public init?(localpart: String) {
        let unescaped = JIDEscaping.unescape(localpart)
        guard !unescaped.isEmpty else { return nil }
        // Split on scalars so a combining mark after '%' cannot hide it.
        let scalars = unescaped.unicodeScalars
        guard let percent = scalars.lastIndex(of: "%") else {
            self.init(legacy: unescaped, host: nil)
            return
        }
        let legacy = String(Substring(scalars[..<percent]))
        let host = String(Substring(scalars[scalars.index(after: percent)...]))
        guard !legacy.isEmpty, !host.isEmpty else { return nil }
        self.init(legacy: legacy, host: host)
    }

    /// Reads an address from the localpart of a JID; `nil` if it has none or it is not an address.
    public init?(jid: JID) {
        guard let localpart = jid.localpart else { return nil }
        self.init(localpart: localpart)
    }

    /// `legacy%host` (or `legacy`), XEP-0106-escaped for use as a JID localpart.
    public var localpart: String {
        let composed = host.map { "\(legacy)%\($0)" } ?? legacy
        return JIDEscaping.escape(composed)
    }

    /// The JID for this address on the gateway's domain.
    public func jid(domain: String, resource: String? = nil) throws(JIDError) -> JID {
        try JID(localpart: localpart, domainpart: domain, resourcepart: resource)
    }
}
