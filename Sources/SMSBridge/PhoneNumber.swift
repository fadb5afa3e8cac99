/// A phone number in E.164 form: `+`, then 8 to 15 digits, the first of which is not `0`.
///
/// The SMS bridge addresses people by phone number (`+15551234567@sms.example.org`) and the
/// carrier accepts nothing else, so every number a user types goes through
/// ``parse(_:defaultCountryCode:)`` once, and everything after that holds a `PhoneNumber`.
///
/// E.164 allows up to 15 digits. We require at least 8 because no country calling code plus
/// subscriber number in service is shorter, and a shorter string is almost always a typo or a
/// short code (which carriers route differently and this bridge does not support).
public struct PhoneNumber: Sendable, Hashable, CustomStringConvertible {
    /// The number as `+` followed by its digits, e.g. `+15551234567`.
    public let e164: String

    /// The digits without the leading `+`, e.g. `15551234567`.
    public var digits: Substring { e164.dropFirst() }

    public var description: String { e164 }

    /// The fewest and most digits (country code included) a number may have.
    public static let digitCountRange = 8...15

    /// Accepts exactly the E.164 form (`+15551234567`) and nothing else: use this for numbers that
    /// come from machines (the carrier, the store), and ``parse(_:defaultCountryCode:)`` for people.
    public init?(e164: String) {
        let scalars = Array(e164.unicodeScalars)
        guard scalars.first == "+" else { return nil }
        let digits = scalars.dropFirst()
        guard Self.digitCountRange.contains(digits.count),
              digits.allSatisfy({ ("0"..."9").contains($0) }),
              digits.first != "0"
        else { return nil }
        self.e164 = e164
    }

    /// Reads a number the way people write it.
    ///
    /// Accepted:
    /// - separators anywhere: spaces, `-`, `.`, `/`, brackets: `+1 (555) 123-4567`;
    /// - the international form with `+` or the `00` prefix: `+44 20 7946 0958`, `0044 20 7946 0958`,
    ///   also with the optional trunk prefix in brackets: `+44 (0)20 7946 0958`;
    /// - with `defaultCountryCode` `"1"` also the North American `011` prefix: `011 44 20 7946 0958`;
    /// - the national form when `defaultCountryCode` is set: `555-123-4567` with `"1"`,
    ///   `07911 123456` with `"44"`. One national trunk prefix is dropped first: `0` for most
    ///   countries, `1` for North America (`1-555-123-4567`), `8` for Russia and Kazakhstan (`7`),
    ///   `06` for Hungary (`36`); none for Italy, San Marino and the Vatican, whose numbers keep
    ///   their leading `0`.
    ///
    /// Digits from other scripts (Arabic-Indic, full-width…) count as the digits they are.
    ///
    /// - Parameters:
    ///   - input: what the user typed.
    ///   - defaultCountryCode: the country calling code for numbers written without one, as
    ///     digits with or without a leading `+` (`"1"`, `"+44"`), or `nil` to require the
    ///     international form.
    public static func parse(_ input: String, defaultCountryCode: String?) -> Result<PhoneNumber, PhoneNumberError> {
        var trimmed = input.trimmingWhitespace()
        guard !trimmed.isEmpty else { return .failure(.empty) }
        if trimmed.hasPrefix("+") || trimmed.hasPrefix("＋") || trimmed.hasPrefix("00") {
            // `+44 (0)20 …`: the bracketed 0 is the trunk prefix for callers inside the
            // country, written for convenience; it is not part of the international number.
            trimmed = trimmed.removingBracketedTrunkZero()
        }

        var digits: [UInt8] = []  // ASCII digit values 0...9
        var sawPlus = false
        for character in trimmed {
            if let digit = Self.decimalDigit(character) {
                digits.append(digit)
            } else if character == "+" || character == "＋" {
                // `+` is only meaningful as the very first thing typed.
                guard digits.isEmpty, !sawPlus else { return .failure(.misplacedPlus(input)) }
                sawPlus = true
            } else if Self.isSeparator(character) {
                continue
            } else if character.isLetter {
                return .failure(.containsLetters(input))
            } else {
                return .failure(.invalidCharacter(character, input: input))
            }
        }
        guard !digits.isEmpty else { return .failure(.noDigits(input)) }

        // Decide whether the digits already start with a country code.
        var international: ArraySlice<UInt8>?
        if sawPlus {
            international = digits[...]
        } else if digits.starts(with: [0, 0]) {
            international = digits.dropFirst(2)
        } else if let code = defaultCountryCode.map(Self.normalizedCountryCode), code == "1",
                  digits.starts(with: [0, 1, 1]) {
            // NANP's international prefix. National numbers there never start with 0, so this
            // cannot be mistaken for one.
            international = digits.dropFirst(3)
        }

        if let international {
            guard let first = international.first else { return .failure(.noDigits(input)) }
            guard first != 0 else { return .failure(.countryCodeStartsWithZero(input)) }
            guard digitCountRange.contains(international.count) else {
                return .failure(.wrongLength(input, digits: international.count, countryCode: nil))
            }
            return .success(PhoneNumber(unchecked: international))
        }

        // National form.
        guard let rawCode = defaultCountryCode else {
            // With fewer than 5 digits no country code (at most 3 digits) could make this a
            // number, so the length is the clearer complaint.
            if digits.count < digitCountRange.lowerBound - 3 || digits.count > digitCountRange.upperBound {
                return .failure(.wrongLength(input, digits: digits.count, countryCode: nil))
            }
            return .failure(.needsCountryCode(input))
        }
        let code = normalizedCountryCode(rawCode)
        guard isValidCountryCode(code) else { return .failure(.invalidDefaultCountryCode(rawCode)) }

        var national = digits[...]
        if let trunk = nationalTrunkPrefix(countryCode: code), national.starts(with: trunk),
           national.count > trunk.count {
            national = national.dropFirst(trunk.count)
        }
        let full = code.utf8.map { $0 - UInt8(ascii: "0") } + national
        guard digitCountRange.contains(full.count) else {
            return .failure(.wrongLength(input, digits: full.count, countryCode: code))
        }
        return .success(PhoneNumber(unchecked: full[...]))
    }

    /// Whether `code` (digits, optionally after `+`) can be a country calling code: 1 to 3 digits,
    /// not starting with 0. For checking configuration.
    public static func isValidCountryCode(_ code: String) -> Bool {
        let digits = normalizedCountryCode(code)
        return (1...3).contains(digits.utf8.count)
            && digits.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            && digits.utf8.first != UInt8(ascii: "0")
    }

    private init(unchecked digits: ArraySlice<UInt8>) {
        self.e164 = "+" + String(decoding: digits.map { $0 + UInt8(ascii: "0") }, as: UTF8.self)
    }

    private static func normalizedCountryCode(_ code: String) -> String {
        let trimmed = code.trimmingWhitespace()
        return trimmed.hasPrefix("+") ? String(trimmed.dropFirst()) : trimmed
    }

    /// The national trunk prefix dialled before numbers inside the country, which is not part
    /// of the E.164 number. Most countries use `0`; the exceptions below are the ones a user is
    /// likely to type. `nil`: the country has none, and a leading `0` belongs to the number.
    private static func nationalTrunkPrefix(countryCode: String) -> [UInt8]? {
        switch countryCode {
        case "1": return [1]
        case "7": return [8]
        case "36": return [0, 6]
        case "39", "378", "379": return nil
        default: return [0]
        }
    }

    /// The value of a decimal digit in any script, or `nil`.
    private static func decimalDigit(_ character: Character) -> UInt8? {
        guard character.unicodeScalars.count == 1, let scalar = character.unicodeScalars.first,
              scalar.properties.numericType == .decimal,
              let value = character.wholeNumberValue, (0...9).contains(value)
        else { return nil }
        return UInt8(value)
    }

    private static func isSeparator(_ character: Character) -> Bool {
        if character.isWhitespace { return true }
        switch character {
        case "-", "\u{2010}", "\u{2011}", "\u{2012}", "\u{2013}", "\u{2212}", ".", "/",
             "(", ")", "[", "]":
            return true
        default:
            return false
        }
    }
}

extension PhoneNumber: Codable {
    /// Decodes the strict E.164 form only.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        guard let number = PhoneNumber(e164: string) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(string)' is not an E.164 phone number")
        }
        self = number
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(e164)
    }
}

extension String {
    /// The string with each `(0)` (spaces inside allowed) removed.
    fileprivate func removingBracketedTrunkZero() -> String {
        var result = ""
        var rest = self[...]
        while let open = rest.firstIndex(of: "(") {
            result += rest[..<open]
            let inside = rest[rest.index(after: open)...].prefix { $0 != ")" }
            let close = inside.endIndex
            if close < rest.endIndex, inside.filter({ !$0.isWhitespace }) == "0" {
                rest = rest[rest.index(after: close)...]
            } else {
                result.append("(")
                rest = rest[rest.index(after: open)...]
            }
        }
        return result + rest
    }

    /// The string without leading and trailing whitespace (including newlines), without Foundation.
    func trimmingWhitespace() -> String {
        guard let start = firstIndex(where: { !$0.isWhitespace }),
              let end = lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(self[start...end])
    }
}
