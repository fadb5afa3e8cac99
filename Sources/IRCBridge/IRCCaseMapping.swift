/// How an IRC server compares nicknames and channel names, from ISUPPORT `CASEMAPPING`.
///
/// IRC was born in Scandinavia, where `[]\` were the upper-case forms of `{}|` on national
/// keyboards, so by default (RFC 1459) `Bob[away]` and `bob{away}` are the same nick. The bridge
/// must fold names the same way the server does, or one IRC user would become two XMPP
/// contacts (or two users would collide into one).
public enum IRCCaseMapping: Sendable, Hashable {
    /// Only `A`–`Z` fold to `a`–`z` (`CASEMAPPING=ascii`).
    case ascii
    /// `A`–`Z` and `[]\~` fold to `a`–`z` and `{}|^` (`CASEMAPPING=rfc1459`, the default).
    case rfc1459
    /// Like ``rfc1459`` but without `~` ↔ `^` (`CASEMAPPING=strict-rfc1459`).
    case strictRFC1459

    /// The mapping a server advertises in its `005` `CASEMAPPING` token.
    ///
    /// `nil` (the server sent no token) and unknown values give ``rfc1459``: that is what the
    /// RFCs prescribe, and folding more than the server does is the safer mistake — two
    /// distinct nicks that only differ in `[` vs `{` are rarer than one nick written two ways.
    /// `rfc7613` (Unicode nicks, used by a few ergo servers) is treated as ``ascii`` for the
    /// ASCII range; non-ASCII characters are then compared as they are.
    public init(isupportValue: String?) {
        switch isupportValue?.lowercased() {
        case "ascii", "rfc7613": self = .ascii
        case "strict-rfc1459": self = .strictRFC1459
        default: self = .rfc1459
        }
    }

    /// The value this mapping has in an ISUPPORT token.
    public var isupportValue: String {
        switch self {
        case .ascii: "ascii"
        case .rfc1459: "rfc1459"
        case .strictRFC1459: "strict-rfc1459"
        }
    }

    /// `name` in its canonical (lower-case) form under this mapping. Two names are the same
    /// nick or channel exactly when their folds are equal.
    ///
    /// Works on UTF-8 bytes: only ASCII folds, and no byte of a multi-byte sequence is ASCII.
    /// A name that is already folded comes back as it is, without a copy.
    public func fold(_ name: String) -> String {
        let bytes = name.utf8
        guard let first = bytes.firstIndex(where: { fold($0) != $0 }) else { return name }
        var folded = [UInt8]()
        folded.reserveCapacity(bytes.count)
        folded.append(contentsOf: bytes[..<first])
        for byte in bytes[first...] { folded.append(fold(byte)) }
        return String(decoding: folded, as: UTF8.self)
    }

    /// Whether two names denote the same nick or channel under this mapping.
    public func equals(_ a: String, _ b: String) -> Bool {
        fold(a) == fold(b)
    }

    private func fold(_ byte: UInt8) -> UInt8 {
        switch byte {
        case 0x41...0x5A:  // A-Z
            return byte + 0x20
        case 0x5B, 0x5C, 0x5D:  // [ \ ]  →  { | }
            return self == .ascii ? byte : byte + 0x20
        case 0x7E:  // ~ → ^ (only plain rfc1459)
            return self == .rfc1459 ? UInt8(ascii: "^") : byte
        default:
            return byte
        }
    }
}
