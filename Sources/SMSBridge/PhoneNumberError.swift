/// Why a typed phone number was not accepted. The ``description`` is one sentence meant for the
/// person who typed it (it goes back as the text of a stanza error), quoting their input.
public enum PhoneNumberError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Nothing but whitespace was typed.
    case empty
    /// Only separators and perhaps a `+`, no digits.
    case noDigits(String)
    /// Letters, such as a vanity number (`1-800-FLOWERS`) or an extension (`x12`).
    case containsLetters(String)
    /// A character that is neither a digit nor a separator.
    case invalidCharacter(Character, input: String)
    /// A `+` anywhere but at the start.
    case misplacedPlus(String)
    /// `+0…` or `000…`: country calling codes never start with 0.
    case countryCodeStartsWithZero(String)
    /// Fewer than 8 or more than 15 digits. `digits` counts the country code; `countryCode` is
    /// the default one that was added to a national number, if any.
    case wrongLength(String, digits: Int, countryCode: String?)
    /// A national number, and no default country code is configured.
    case needsCountryCode(String)
    /// The configured default country code is not 1 to 3 digits starting with 1–9.
    case invalidDefaultCountryCode(String)

    public var description: String {
        switch self {
        case .empty:
            return "the phone number is empty; write it as +<country code><number>, for example +15551234567"
        case .noDigits(let input):
            return "'\(input)' has no digits; write the number as +<country code><number>, for example +15551234567"
        case .containsLetters(let input):
            return "'\(input)' contains letters; a phone number may only have digits, spaces, dashes, dots, brackets and a leading +"
        case .invalidCharacter(let character, let input):
            return "'\(input)' contains '\(character)'; a phone number may only have digits, spaces, dashes, dots, brackets and a leading +"
        case .misplacedPlus(let input):
            return "'\(input)' has a + that is not at the start; only the country code may be preceded by +"
        case .countryCodeStartsWithZero(let input):
            return "'\(input)' has a country code starting with 0, and no country code does; write it as +<country code><number>"
        case .wrongLength(let input, let digits, let countryCode):
            let limits = "a phone number has \(PhoneNumber.digitCountRange.lowerBound) to \(PhoneNumber.digitCountRange.upperBound) digits"
            if let countryCode {
                return "\(limits) with its country code; '\(input)' has \(digits) with +\(countryCode)"
            }
            return "\(limits); '\(input)' has \(digits)"
        case .needsCountryCode(let input):
            return "national numbers need a country code: write '\(input)' as +<country code> followed by the number, for example +44 7911 123456"
        case .invalidDefaultCountryCode(let code):
            return "the default country code '\(code)' is not a country calling code (1 to 3 digits, not starting with 0)"
        }
    }
}
