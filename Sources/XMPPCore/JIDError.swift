/// Why a string is not a valid JID (RFC 7622, simplified).
///
/// Each case names the part at fault so that `description` can tell a user
/// exactly what to fix, e.g. "the localpart may not contain '@'".
public enum JIDError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The three parts of a JID: `localpart@domainpart/resourcepart`.
    public enum Part: String, Equatable, Sendable {
        case localpart
        case domainpart
        case resourcepart
    }

    /// There is an `@` with nothing before it (`@example.com`), or an empty localpart was given.
    case emptyLocalpart
    /// There is no domainpart (``, `alice@`, `/resource`, or just `.`).
    case emptyDomain
    /// There is a `/` with nothing after it (`alice@example.com/`), or an empty resource was given.
    case emptyResource
    /// The part is longer than 1023 bytes of UTF-8 after normalization.
    case tooLong(part: Part)
    /// The part contains a character it may not contain.
    case forbiddenCharacter(part: Part, character: Unicode.Scalar)
    /// The domainpart has an empty label: a leading dot or two dots in a row.
    case emptyDomainLabel
    /// The domainpart starts with `[` but is not a bracketed IPv6 address.
    case invalidIPv6Literal

    public var description: String {
        switch self {
        case .emptyLocalpart:
            return "the localpart is empty (nothing before '@')"
        case .emptyDomain:
            return "the domainpart is empty"
        case .emptyResource:
            return "the resourcepart is empty (nothing after '/')"
        case .tooLong(let part):
            return "the \(part.rawValue) is longer than \(JID.maximumPartLength) bytes"
        case .forbiddenCharacter(let part, let character):
            return "the \(part.rawValue) may not contain \(Self.readable(character))"
        case .emptyDomainLabel:
            return "the domainpart has an empty label (a leading dot or two dots in a row)"
        case .invalidIPv6Literal:
            return "the domainpart is not a valid bracketed IPv6 address"
        }
    }

    /// Quotes printable characters; names invisible ones by code point so
    /// that a tab or a no-break space shows up in a log line.
    private static func readable(_ scalar: Unicode.Scalar) -> String {
        let properties = scalar.properties
        let invisible = properties.isWhitespace
            || properties.generalCategory == .control
            || properties.generalCategory == .format
        guard invisible else { return "'\(scalar)'" }
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let padded = String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        return scalar == " " ? "a space (U+0020)" : "U+\(padded)"
    }
}
