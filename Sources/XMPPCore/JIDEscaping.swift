/// XEP-0106 JID Escaping: carries characters that RFC 7622 forbids in a
/// localpart (space `"` `&` `'` `/` `:` `<` `>` `@`) as `\hexhex` sequences.
///
/// Apply it to localparts only, never to domainparts or resourceparts.
///
/// The rules, from XEP-0106 §3 and §4:
///
/// - The nine disallowed characters are always escaped, to lowercase
///   sequences: `\20 \22 \26 \27 \2f \3a \3c \3e \40`.
/// - A backslash is escaped (to `\5c`) only when it and the two characters
///   after it would otherwise read as one of the ten sequences above or
///   `\5c` itself; any other backslash is left alone (§4.3, "`foo\bar` is not
///   modified"). Note that the XEP's example table (§5.1, rows 9–11) escapes
///   *every* backslash, contradicting §4.3; this type follows the normative
///   rules. Both forms unescape to the same text.
/// - Unescaping turns back only the ten exact, lowercase sequences ("CASE IS
///   SIGNIFICANT"); `\2F`, `\41` or a lone `\` stay as they are.
///
/// Two deliberate choices:
///
/// - Deciding whether a backslash starts a sequence ignores case, so `\2F`
///   becomes `\5c2F`. A JID's localpart is lowercased, and without this the
///   literal text `\2F` would come back as `/` after the round trip.
/// - Leading and trailing spaces are escaped like any other, although the
///   XEP says `\20` must not begin or end a localpart. Dropping them would
///   lose information and the escaped form is still a valid JID localpart.
///
/// With these rules `unescape(escape(s)) == s` for every string `s`.
public enum JIDEscaping {
    /// The ten characters XEP-0106 escapes, with their two hex digits.
    private static let hexDigitsByCharacter: [Unicode.Scalar: String] = [
        " ": "20", "\"": "22", "&": "26", "'": "27", "/": "2f",
        ":": "3a", "<": "3c", ">": "3e", "@": "40", "\\": "5c",
    ]

    /// The inverse map: a sequence's two hex digits (lowercase) to its character.
    private static let characterByHexDigits: [String: Unicode.Scalar] =
        Dictionary(uniqueKeysWithValues: hexDigitsByCharacter.map { ($1, $0) })

    /// Escapes a string for use as a JID localpart.
    ///
    /// `escape("d'artagnan")` is `d\27artagnan`; `escape("c:\\5commas")` is
    /// `c\3a\5c5commas`. The result contains no character that RFC 7622
    /// forbids in a localpart unless the input had whitespace other than
    /// U+0020 or control characters, which XEP-0106 does not cover.
    public static func escape(_ string: String) -> String {
        // Most localparts (`bob%irc.example`) hold none of the ten: no work, no copy.
        if !string.utf8.contains(where: isEscapedByte) { return string }
        let scalars = Array(string.unicodeScalars)
        var result = String.UnicodeScalarView()
        for (index, scalar) in scalars.enumerated() {
            let mustEscape = scalar == "\\"
                ? sequence(in: scalars, after: index, ignoringCase: true) != nil
                : hexDigitsByCharacter[scalar] != nil
            if mustEscape, let hex = hexDigitsByCharacter[scalar] {
                result.append("\\")
                result.append(contentsOf: hex.unicodeScalars)
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    /// Turns XEP-0106 sequences in a localpart back into the characters they stand for.
    ///
    /// `unescape("space\\20cadet")` is `space cadet`. Anything that is not one
    /// of the ten lowercase sequences is copied unchanged.
    public static func unescape(_ string: String) -> String {
        if !string.utf8.contains(UInt8(ascii: "\\")) { return string }
        let scalars = Array(string.unicodeScalars)
        var result = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            if scalars[index] == "\\", let character = sequence(in: scalars, after: index, ignoringCase: false) {
                result.append(character)
                index += 3
            } else {
                result.append(scalars[index])
                index += 1
            }
        }
        return String(result)
    }

    /// Whether a byte is one of the ten characters (all ASCII, so never part of a longer scalar).
    private static func isEscapedByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: " "), UInt8(ascii: "\""), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "/"),
            UInt8(ascii: ":"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "@"), UInt8(ascii: "\\"):
            return true
        default:
            return false
        }
    }

    /// The character escaped by the two scalars after `index`, if they form one of the ten sequences.
    private static func sequence(in scalars: [Unicode.Scalar], after index: Int, ignoringCase: Bool) -> Unicode.Scalar? {
        guard index + 2 < scalars.count else { return nil }
        var hex = String(scalars[index + 1]) + String(scalars[index + 2])
        // Only ASCII A-F matter here; lowercasing anything else cannot make a match.
        if ignoringCase { hex = hex.lowercased() }
        return characterByHexDigits[hex]
    }
}
