/// An XMPP address: `[localpart@]domainpart[/resourcepart]` (RFC 7622).
///
/// A `JID` is always valid and normalized, so two JIDs that name the same
/// entity compare equal and hash alike. Validation is a simplified RFC 7622
/// (no full PRECIS):
///
/// - every part present is 1...1023 bytes of UTF-8;
/// - the localpart is lowercased (a stand-in for the UsernameCaseMapped
///   profile) and may not contain `" & ' / : < > @`, whitespace or control
///   characters — use ``JIDEscaping`` to carry those;
/// - the domainpart is lowercased and loses one trailing dot; it may not
///   contain whitespace, controls, `@`, `/`, `:` or brackets, and its labels
///   may not be empty, except that a bracketed IPv6 literal such as
///   `[2001:db8::1]` is accepted;
/// - the resourcepart keeps its case and may contain anything except
///   control characters, including `@` and `/`.
public struct JID: Sendable, Hashable, CustomStringConvertible {
    /// The longest a part may be, in bytes of UTF-8.
    public static let maximumPartLength = 1023

    /// The part before `@`, if any; always lowercase.
    public let localpart: String?
    /// The server or service; always lowercase and without a trailing dot.
    public let domainpart: String
    /// The part after `/`, if any; case is kept.
    public let resourcepart: String?

    /// Parses and normalizes a JID string.
    ///
    /// The resourcepart is everything after the first `/`, so it may itself
    /// contain `/` and `@`. The localpart is whatever precedes the first `@`
    /// before that `/`.
    public init(_ string: String) throws(JIDError) {
        // Split on UTF-8 bytes, not Characters: a combining mark after '/' or '@' would hide the
        // separator inside one grapheme cluster. An ASCII byte never occurs inside a multi-byte
        // sequence, so its index is a scalar boundary; bytes are also cheapest to scan.
        let bytes = string.utf8
        var address = string[...]
        var resource: String?
        if let slash = bytes.firstIndex(of: UInt8(ascii: "/")) {
            address = string[..<slash]
            resource = String(string[bytes.index(after: slash)...])
        }
        var local: String?
        var domain = address
        if let at = address.utf8.firstIndex(of: UInt8(ascii: "@")) {
            local = String(address[..<at])
            domain = address[address.utf8.index(after: at)...]
        }
        try self.init(localpart: local, domainpart: String(domain), resourcepart: resource)
    }

    /// Builds a JID from its parts, validating and normalizing each one.
    ///
    /// Pass `nil` for an absent part; an empty string is an error, not an
    /// absent part.
    public init(localpart: String?, domainpart: String, resourcepart: String? = nil) throws(JIDError) {
        self.localpart = try localpart.map { (part) throws(JIDError) in try Self.normalizedLocalpart(part) }
        self.domainpart = try Self.normalizedDomainpart(domainpart)
        self.resourcepart = try resourcepart.map { (part) throws(JIDError) in try Self.validatedResourcepart(part) }
    }

    /// Parses a JID string, or returns `nil` if it is not valid.
    public init?(string: String) {
        guard let jid = try? JID(string) else { return nil }
        self = jid
    }

    /// Wraps parts that are already normalized; used to derive one valid JID from another.
    private init(normalizedLocalpart: String?, domainpart: String, resourcepart: String?) {
        self.localpart = normalizedLocalpart
        self.domainpart = domainpart
        self.resourcepart = resourcepart
    }

    /// This JID without its resourcepart.
    public var bare: JID {
        JID(normalizedLocalpart: localpart, domainpart: domainpart, resourcepart: nil)
    }

    /// Whether this JID has no resourcepart.
    public var isBare: Bool { resourcepart == nil }

    /// This JID with its resourcepart replaced (or removed, for `nil`).
    public func withResource(_ resource: String?) throws(JIDError) -> JID {
        let validated = try resource.map { (part) throws(JIDError) in try Self.validatedResourcepart(part) }
        return JID(normalizedLocalpart: localpart, domainpart: domainpart, resourcepart: validated)
    }

    /// The string form, `[localpart@]domainpart[/resourcepart]`; parsing it gives back an equal JID.
    public var description: String {
        var result = ""
        if let localpart { result += localpart + "@" }
        result += domainpart
        if let resourcepart { result += "/" + resourcepart }
        return result
    }
}

// MARK: - Validation

extension JID {
    /// Characters RFC 7622 forbids in a localpart besides whitespace and controls.
    private static let localpartForbidden: Set<Unicode.Scalar> = ["\"", "&", "'", "/", ":", "<", ">", "@"]
    /// Characters never valid in a host name; ':' and brackets only inside an IPv6 literal.
    private static let domainForbidden: Set<Unicode.Scalar> = ["@", "/", ":", "[", "]"]

    private static func normalizedLocalpart(_ part: String) throws(JIDError) -> String {
        guard !part.isEmpty else { throw .emptyLocalpart }
        if let mapped = asciiLowercased(part, allowed: isASCIILocalpartByte) { return mapped }
        // Map first, then check: lowercasing can change the length in bytes.
        let mapped = part.lowercased()
        try checkLength(mapped, part: .localpart)
        for scalar in mapped.unicodeScalars
        where localpartForbidden.contains(scalar) || isWhitespaceOrControl(scalar) {
            throw .forbiddenCharacter(part: .localpart, character: scalar)
        }
        return mapped
    }

    private static func normalizedDomainpart(_ part: String) throws(JIDError) -> String {
        if let mapped = asciiLowercased(part, allowed: isASCIIHostnameByte), isPlainHostname(mapped) { return mapped }
        var mapped = part.lowercased()
        // A fully qualified name's trailing dot names the same host (RFC 7622 §3.2).
        if mapped.unicodeScalars.last == "." { mapped.unicodeScalars.removeLast() }
        guard !mapped.isEmpty else { throw .emptyDomain }
        try checkLength(mapped, part: .domainpart)
        for scalar in mapped.unicodeScalars where isWhitespaceOrControl(scalar) {
            throw .forbiddenCharacter(part: .domainpart, character: scalar)
        }
        if mapped.unicodeScalars.first == "[" {
            guard isIPv6Literal(mapped) else { throw .invalidIPv6Literal }
            return mapped
        }
        for scalar in mapped.unicodeScalars where domainForbidden.contains(scalar) {
            throw .forbiddenCharacter(part: .domainpart, character: scalar)
        }
        // Covers IPv4 too: its labels are just numeric.
        let labels = mapped.unicodeScalars.split(separator: ".", omittingEmptySubsequences: false)
        if labels.contains(where: \.isEmpty) { throw .emptyDomainLabel }
        return mapped
    }

    private static func validatedResourcepart(_ part: String) throws(JIDError) -> String {
        guard !part.isEmpty else { throw .emptyResource }
        try checkLength(part, part: .resourcepart)
        if part.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return part }
        for scalar in part.unicodeScalars where scalar.properties.generalCategory == .control {
            throw .forbiddenCharacter(part: .resourcepart, character: scalar)
        }
        return part
    }

    // MARK: ASCII fast paths
    //
    // Nearly every JID a gateway sees is ASCII. These answer for the common case without
    // Unicode property lookups (which dominated a profile of message handling); anything they do
    // not accept outright takes the general path above, which decides and explains.

    /// `part` lower-cased, if it is 1...maximumPartLength bytes and every byte is `allowed`.
    private static func asciiLowercased(_ part: String, allowed: (UInt8) -> Bool) -> String? {
        let utf8 = part.utf8
        guard !utf8.isEmpty, utf8.count <= maximumPartLength else { return nil }
        var hasUpper = false
        for byte in utf8 {
            guard allowed(byte) else { return nil }
            if byte >= 0x41 && byte <= 0x5A { hasUpper = true }
        }
        guard hasUpper else { return part }
        return String(decoding: utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// Printable ASCII other than space and the characters a localpart may not hold.
    private static func isASCIILocalpartByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "/"),
            UInt8(ascii: ":"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "@"):
            return false
        case 0x21...0x7E: return true
        default: return false
        }
    }

    /// Letters, digits, `-`, `_` and `.`: enough for any host name and IPv4 address.
    private static func isASCIIHostnameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F: return true
        default: return false
        }
    }

    /// No empty label and no trailing dot (the general path strips it and explains the rest).
    private static func isPlainHostname(_ domain: String) -> Bool {
        var previous: UInt8 = 0x2E
        for byte in domain.utf8 {
            if byte == 0x2E && previous == 0x2E { return false }
            previous = byte
        }
        return previous != 0x2E
    }

    private static func checkLength(_ string: String, part: JIDError.Part) throws(JIDError) {
        guard string.utf8.count <= maximumPartLength else { throw .tooLong(part: part) }
    }

    private static func isWhitespaceOrControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || scalar.properties.generalCategory == .control
    }

    /// `[` hex digits, colons and (for an embedded IPv4 tail) dots `]`, with at
    /// least two colons. A shape check, not a full RFC 4291 parser.
    private static func isIPv6Literal(_ domain: String) -> Bool {
        guard domain.unicodeScalars.last == "]" else { return false }
        let inner = domain.unicodeScalars.dropFirst().dropLast()
        var colons = 0
        for scalar in inner {
            switch scalar {
            case ":": colons += 1
            case "0"..."9", "a"..."f", ".": continue
            default: return false
            }
        }
        return colons >= 2
    }
}
