/// What a JID local part means on an IRC bridge.
///
/// The gateway core hands the bridge the local part already XEP-0106-unescaped
/// (`#swift%irc.libera.chat`, `bob%irc.libera.chat`, `irc.libera.chat`). It is split at the
/// **last** `%`: host names never contain `%`, channel names may (`#50%off%irc.example`).
/// Without a `%` the whole local part is a server. A bridge fixed to one network (its settings
/// name the server) drops the `%server` part: `bob` is a user and `#swift` a channel there.
///
/// Everything is validated here, before it can reach an IRC line: a nick or channel with a
/// space, comma, CR, LF or NUL would let a user send commands of their own choosing.
public enum IRCAddress: Hashable, Sendable {
    /// A person, by nick.
    case user(nick: String, server: String)
    /// A channel (an XMPP MUC room).
    case channel(name: String, server: String)
    /// The IRC server itself (its notices, MOTD, raw commands).
    case server(String)

    /// Longest nick accepted unless told otherwise. RFC 2812 says 9, but every public network
    /// allows more (Libera 16, OFTC 30, ngircd configurable); the server refuses what it does
    /// not allow, this limit only stops nonsense early.
    public static let defaultMaxNickLength = 30
    /// Longest channel name in bytes (RFC 2812).
    public static let maxChannelLength = 50
    /// Channel prefixes when the server sends no ISUPPORT `CHANTYPES`.
    public static let defaultChannelTypes = "#&"

    /// Parses and validates a local part.
    ///
    /// - Parameters:
    ///   - localpart: the unescaped JID local part.
    ///   - fixedServer: the one server of a bridge fixed to one network, or `nil`.
    ///   - channelTypes: the server's ISUPPORT `CHANTYPES`.
    ///   - maxNickLength: longest nick accepted (ISUPPORT `NICKLEN` when known).
    public init(
        localpart: String,
        fixedServer: String? = nil,
        channelTypes: String = IRCAddress.defaultChannelTypes,
        maxNickLength: Int = IRCAddress.defaultMaxNickLength
    ) throws(IRCAddressError) {
        let name: String
        let server: String
        if let fixedServer {
            // On a fixed bridge a trailing `%that-same-server` is tolerated (the full form
            // written back by a client that once saw it); any other `%` belongs to the name,
            // where a channel may hold it and a nick check will refuse it.
            if let (left, right) = Self.splitAtLastPercent(localpart),
                Self.lowercasedASCII(right) == Self.lowercasedASCII(fixedServer)
            {
                name = left
                if name.isEmpty { throw .missingName(server: right) }
            } else {
                name = localpart
            }
            server = fixedServer
            if name.isEmpty {
                self = .server(server)
                return
            }
        } else {
            guard !localpart.isEmpty else { throw .empty }
            guard let (left, right) = Self.splitAtLastPercent(localpart) else {
                // No `%`: a server, unless it is plainly a channel name missing its server.
                if let first = localpart.unicodeScalars.first, channelTypes.unicodeScalars.contains(first) {
                    throw .missingServer(name: localpart)
                }
                try Self.validateServer(localpart)
                self = .server(localpart)
                return
            }
            guard !left.isEmpty else { throw .missingName(server: right) }
            try Self.validateServer(right)
            name = left
            server = right
        }
        if let first = name.unicodeScalars.first, channelTypes.unicodeScalars.contains(first) {
            try Self.validateChannel(name, channelTypes: channelTypes)
            self = .channel(name: name, server: server)
        } else {
            try Self.validateNick(name, maxLength: maxNickLength)
            self = .user(nick: name, server: server)
        }
    }

    /// The server this address lives on.
    public var server: String {
        switch self {
        case .user(_, let server), .channel(_, let server), .server(let server): server
        }
    }

    /// The nick or channel name; `nil` for a server.
    public var name: String? {
        switch self {
        case .user(let nick, _): nick
        case .channel(let name, _): name
        case .server: nil
        }
    }

    /// The full local part (`bob%irc.libera.chat`, `#swift%irc.libera.chat`,
    /// `irc.libera.chat`), before XEP-0106 escaping, as written by the user's side.
    public var localpart: String {
        switch self {
        case .user(let nick, let server): nick + "%" + server
        case .channel(let name, let server): name + "%" + server
        case .server(let server): server
        }
    }

    /// The local part for a bridge fixed to `fixedServer`: the `%server` part is left out when
    /// it is that server (and the server itself is the bridge domain's empty local part).
    public func localpart(fixedServer: String?) -> String {
        guard let fixedServer, Self.lowercasedASCII(server) == Self.lowercasedASCII(fixedServer) else {
            return localpart
        }
        return name ?? ""
    }

    /// The identity of this address: names folded with the server's case mapping, the host
    /// lower-cased (DNS is case-insensitive), so `Bob%Irc.Example` and `bob%irc.example` are
    /// one contact. Not for display: keep the original spelling for that.
    public func canonical(caseMapping: IRCCaseMapping) -> String {
        let host = Self.lowercasedASCII(server)
        switch self {
        case .user(let nick, _): return caseMapping.fold(nick) + "%" + host
        case .channel(let name, _): return caseMapping.fold(name) + "%" + host
        case .server: return host
        }
    }

    // MARK: - Validation

    /// Checks RFC 2812's nick shape: a letter or one of ``[]\`_^{|}`` first, then also digits
    /// and `-`; at most `maxLength` characters.
    public static func validateNick(_ nick: String, maxLength: Int = defaultMaxNickLength) throws(IRCAddressError) {
        guard let first = nick.unicodeScalars.first else { throw .empty }
        if isDigit(first) { throw .invalidNick(nick, reason: "it may not start with a digit") }
        if first == "-" { throw .invalidNick(nick, reason: "it may not start with “-”") }
        for scalar in nick.unicodeScalars {
            guard isLetter(scalar) || isDigit(scalar) || isNickSpecial(scalar) || scalar == "-" else {
                throw .invalidNick(nick, reason: "it contains " + IRCAddressError.describe(scalar))
            }
        }
        if nick.unicodeScalars.count > maxLength {
            throw .invalidNick(nick, reason: "it is longer than \(maxLength) characters")
        }
    }

    /// Checks a channel name: a `channelTypes` prefix, at most 50 bytes, no space, comma, BEL,
    /// NUL, CR or LF (RFC 2812 §1.3 — a comma would name a second channel).
    public static func validateChannel(_ name: String, channelTypes: String = defaultChannelTypes) throws(IRCAddressError) {
        guard let first = name.unicodeScalars.first else { throw .empty }
        guard channelTypes.unicodeScalars.contains(first) else {
            throw .invalidChannel(name, reason: "it must start with one of “\(channelTypes)”")
        }
        guard name.unicodeScalars.count > 1 else {
            throw .invalidChannel(name, reason: "it has no name after “\(Character(first))”")
        }
        for scalar in name.unicodeScalars {
            switch scalar.value {
            case 0x20, 0x2C, 0x07, 0x00, 0x0D, 0x0A:
                throw .invalidChannel(name, reason: "it contains " + IRCAddressError.describe(scalar))
            default: continue
            }
        }
        if name.utf8.count > maxChannelLength {
            throw .invalidChannel(name, reason: "it is longer than \(maxChannelLength) bytes")
        }
    }

    /// Checks that a server looks like a host name or an IP address: letters, digits, `.`, `-`
    /// and `:` (IPv6), no empty label, at most 253 bytes.
    public static func validateServer(_ host: String) throws(IRCAddressError) {
        guard !host.isEmpty else { throw .invalidServer(host, reason: "it is empty") }
        for scalar in host.unicodeScalars {
            guard isLetter(scalar) || isDigit(scalar) || scalar == "." || scalar == "-" || scalar == ":" else {
                throw .invalidServer(host, reason: "it contains " + IRCAddressError.describe(scalar))
            }
        }
        if host.utf8.count > 253 { throw .invalidServer(host, reason: "it is longer than 253 bytes") }
        // On bytes (all ASCII by now): Character-wise splitting was a visible cost per message.
        let bytes = host.utf8
        guard !bytes.contains(UInt8(ascii: ":")) else { return }
        // A host name: labels between dots are non-empty and do not start or end with `-`.
        var previous = UInt8(ascii: ".")
        for byte in bytes {
            if byte == UInt8(ascii: ".") && previous == UInt8(ascii: ".") {
                throw .invalidServer(host, reason: "it has an empty part between dots")
            }
            if (byte == UInt8(ascii: ".") && previous == UInt8(ascii: "-"))
                || (byte == UInt8(ascii: "-") && previous == UInt8(ascii: ".")) {
                throw .invalidServer(host, reason: "a part of it starts or ends with “-”")
            }
            previous = byte
        }
        if previous == UInt8(ascii: ".") { throw .invalidServer(host, reason: "it has an empty part between dots") }
        if previous == UInt8(ascii: "-") { throw .invalidServer(host, reason: "a part of it starts or ends with “-”") }
    }

    // MARK: - Helpers

    static func splitAtLastPercent(_ s: String) -> (String, String)? {
        // On bytes: a `%` followed by a combining mark is one Character and would be missed; an
        // ASCII byte is always a scalar boundary.
        let bytes = s.utf8
        guard let index = bytes.lastIndex(of: UInt8(ascii: "%")) else { return nil }
        return (String(s[..<index]), String(s[bytes.index(after: index)...]))
    }

    static func lowercasedASCII(_ s: String) -> String {
        IRCCaseMapping.ascii.fold(s)
    }

    private static func isLetter(_ s: Unicode.Scalar) -> Bool {
        (0x41...0x5A).contains(s.value) || (0x61...0x7A).contains(s.value)
    }

    private static func isDigit(_ s: Unicode.Scalar) -> Bool {
        (0x30...0x39).contains(s.value)
    }

    /// RFC 2812 `special`: `[ ] \ ` _ ^ { | }`.
    private static func isNickSpecial(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case "[", "]", "\\", "`", "_", "^", "{", "|", "}": true
        default: false
        }
    }
}
