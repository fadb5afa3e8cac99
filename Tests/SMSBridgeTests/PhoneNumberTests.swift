import Foundation
import XCTest
import SMSBridge

final class PhoneNumberTests: XCTestCase {
    private func parsed(_ input: String, _ country: String? = nil, file: StaticString = #filePath, line: UInt = #line) -> String? {
        switch PhoneNumber.parse(input, defaultCountryCode: country) {
        case .success(let number): return number.e164
        case .failure(let error):
            XCTFail("'\(input)' (default \(country ?? "none")) was refused: \(error)", file: file, line: line)
            return nil
        }
    }

    private func refusal(_ input: String, _ country: String? = nil, file: StaticString = #filePath, line: UInt = #line) -> PhoneNumberError? {
        switch PhoneNumber.parse(input, defaultCountryCode: country) {
        case .success(let number):
            XCTFail("'\(input)' was accepted as \(number)", file: file, line: line)
            return nil
        case .failure(let error): return error
        }
    }

    // MARK: International form

    func testPlainE164() {
        XCTAssertEqual(parsed("+15551234567"), "+15551234567")
        XCTAssertEqual(parsed("+447911123456"), "+447911123456")
    }

    func testSeparatorsAreIgnored() {
        XCTAssertEqual(parsed("+1 (555) 123-4567"), "+15551234567")
        XCTAssertEqual(parsed("+1.555.123.4567"), "+15551234567")
        XCTAssertEqual(parsed("+44 20 7946 0958"), "+442079460958")
        XCTAssertEqual(parsed("+49 30/1234567"), "+49301234567")
        XCTAssertEqual(parsed("  +1 555 123 4567 \n"), "+15551234567")
        XCTAssertEqual(parsed("+1\u{00A0}555\u{2011}123\u{2013}4567"), "+15551234567", "no-break space and Unicode dashes")
        XCTAssertEqual(parsed("+[1] 555 123 4567"), "+15551234567")
    }

    func testOptionalTrunkZeroInBracketsIsDropped() {
        XCTAssertEqual(parsed("+44 (0)20 7946 0958"), "+442079460958")
        XCTAssertEqual(parsed("0044 (0) 7911 123456"), "+447911123456")
    }

    func testDoubleZeroPrefix() {
        XCTAssertEqual(parsed("0044 7911 123456"), "+447911123456")
        XCTAssertEqual(parsed("0044 7911 123456", "1"), "+447911123456", "00 wins over a default country")
        XCTAssertEqual(parsed("00-33-1-23-45-67-89"), "+33123456789")
    }

    func testNorthAmericanInternationalPrefixOnlyWithCountryOne() {
        XCTAssertEqual(parsed("011 44 20 7946 0958", "1"), "+442079460958")
        // Elsewhere 011 is a national number with trunk 0.
        XCTAssertEqual(parsed("011 4420 7946", "44"), "+441144207946")
    }

    func testInternationalIgnoresDefaultCountry() {
        XCTAssertEqual(parsed("+33 1 23 45 67 89", "1"), "+33123456789")
    }

    func testNonASCIIDigits() {
        XCTAssertEqual(parsed("+٩٧١٥٠١٢٣٤٥٦٧"), "+971501234567", "Arabic-Indic digits")
        XCTAssertEqual(parsed("＋１ ５５５ １２３ ４５６７"), "+15551234567", "full-width plus and digits")
    }

    func testLengthLimits() {
        XCTAssertEqual(parsedOrNil("+12345678"), "+12345678", "8 digits is the shortest")
        XCTAssertEqual(parsedOrNil("+123456789012345"), "+123456789012345", "15 digits is the longest")
        XCTAssertEqual(refusal("+1234567"), .wrongLength("+1234567", digits: 7, countryCode: nil))
        XCTAssertEqual(refusal("+1234567890123456"), .wrongLength("+1234567890123456", digits: 16, countryCode: nil))
    }

    private func parsedOrNil(_ input: String, _ country: String? = nil) -> String? {
        try? PhoneNumber.parse(input, defaultCountryCode: country).get().e164
    }

    // MARK: National form

    func testNationalWithDefaultCountryOne() {
        XCTAssertEqual(parsed("555-123-4567", "1"), "+15551234567")
        XCTAssertEqual(parsed("(555) 123-4567", "1"), "+15551234567")
        XCTAssertEqual(parsed("1-555-123-4567", "1"), "+15551234567", "NANP trunk prefix 1 is dropped")
        XCTAssertEqual(parsed("555 123 4567", "+1"), "+15551234567", "default written with +")
    }

    func testNationalWithDefaultCountryFortyFour() {
        XCTAssertEqual(parsed("07911 123456", "44"), "+447911123456")
        XCTAssertEqual(parsed("020 7946 0958", "44"), "+442079460958")
        XCTAssertEqual(parsed("7911 123456", "44"), "+447911123456", "without the trunk 0")
    }

    func testOnlyOneTrunkZeroIsDropped() {
        XCTAssertEqual(parsed("0030 123 4567", "49"), "+301234567", "00 is the international prefix")
        XCTAssertEqual(parsed("030 1234567", "49"), "+49301234567")
    }

    func testCountriesWithOtherTrunkPrefixes() {
        XCTAssertEqual(parsed("06 1234 5678", "39"), "+390612345678", "Italy keeps its leading 0")
        XCTAssertEqual(parsed("8 912 345 67 89", "7"), "+79123456789", "Russia's trunk prefix is 8")
        XCTAssertEqual(parsed("06 30 123 4567", "36"), "+36301234567", "Hungary's trunk prefix is 06")
    }

    func testNationalWithoutDefaultCountryIsRefused() {
        XCTAssertEqual(refusal("555-123-4567"), .needsCountryCode("555-123-4567"))
        XCTAssertEqual(refusal("07911 123456"), .needsCountryCode("07911 123456"))
        XCTAssertEqual(refusal("555-123-4567")?.description.hasPrefix(
            "national numbers need a country code: write '555-123-4567' as +<country code>"), true)
    }

    func testNationalTooShortWithDefault() {
        XCTAssertEqual(refusal("555", "1"), .wrongLength("555", digits: 4, countryCode: "1"))
        XCTAssertEqual(refusal("555", "1")?.description,
                       "a phone number has 8 to 15 digits with its country code; '555' has 4 with +1")
    }

    func testInvalidDefaultCountryCode() {
        XCTAssertEqual(refusal("555 123 4567", "0"), .invalidDefaultCountryCode("0"))
        XCTAssertEqual(refusal("555 123 4567", "1234"), .invalidDefaultCountryCode("1234"))
        XCTAssertEqual(refusal("555 123 4567", "uk"), .invalidDefaultCountryCode("uk"))
        XCTAssertTrue(PhoneNumber.isValidCountryCode("+44"))
        XCTAssertTrue(PhoneNumber.isValidCountryCode("1"))
        XCTAssertFalse(PhoneNumber.isValidCountryCode(""))
        XCTAssertFalse(PhoneNumber.isValidCountryCode("044"))
    }

    // MARK: Refusals and their sentences

    func testEmpty() {
        XCTAssertEqual(refusal(""), .empty)
        XCTAssertEqual(refusal("   "), .empty)
        XCTAssertEqual(refusal("+"), .noDigits("+"))
        XCTAssertEqual(refusal("( ) -"), .noDigits("( ) -"))
    }

    func testLetters() {
        XCTAssertEqual(refusal("+1 555 CALL"), .containsLetters("+1 555 CALL"))
        XCTAssertEqual(refusal("1-800-FLOWERS", "1"), .containsLetters("1-800-FLOWERS"))
        XCTAssertEqual(refusal("+1 555 123 4567 x12"), .containsLetters("+1 555 123 4567 x12"))
        XCTAssertEqual(refusal("+1 555 CALL")?.description.hasPrefix("'+1 555 CALL' contains letters"), true)
    }

    func testOtherCharacters() {
        XCTAssertEqual(refusal("+1 555 123#4567"), .invalidCharacter("#", input: "+1 555 123#4567"))
        XCTAssertEqual(refusal("*555"), .invalidCharacter("*", input: "*555"))
        XCTAssertEqual(refusal("+1,5551234567"), .invalidCharacter(",", input: "+1,5551234567"))
    }

    func testMisplacedPlus() {
        XCTAssertEqual(refusal("1+5551234567"), .misplacedPlus("1+5551234567"))
        XCTAssertEqual(refusal("++15551234567"), .misplacedPlus("++15551234567"))
    }

    func testCountryCodeStartingWithZero() {
        XCTAssertEqual(refusal("+0 555 123 4567"), .countryCodeStartsWithZero("+0 555 123 4567"))
        XCTAssertEqual(refusal("000 555 123 4567"), .countryCodeStartsWithZero("000 555 123 4567"))
    }

    func testTooShortSentence() {
        XCTAssertEqual(refusal("12"), .wrongLength("12", digits: 2, countryCode: nil))
        XCTAssertEqual(refusal("12")?.description, "a phone number has 8 to 15 digits; '12' has 2")
        XCTAssertEqual(refusal("1234567890123456789"), .wrongLength("1234567890123456789", digits: 19, countryCode: nil))
    }

    func testEverySentenceQuotesTheInput() {
        let inputs = ["+1 555 CALL", "1+2", "+0123456789", "12", "555-1234", "#1", "+", "+1234567890123456"]
        for input in inputs {
            let error = refusal(input)
            XCTAssertTrue(error?.description.contains("'\(input)'") ?? false, "\(String(describing: error))")
        }
    }

    // MARK: Strict form and coding

    func testStrictE164Initializer() {
        XCTAssertEqual(PhoneNumber(e164: "+15551234567")?.e164, "+15551234567")
        XCTAssertEqual(PhoneNumber(e164: "+15551234567")?.digits, "15551234567")
        XCTAssertNil(PhoneNumber(e164: "15551234567"))
        XCTAssertNil(PhoneNumber(e164: "+1 555 123 4567"))
        XCTAssertNil(PhoneNumber(e164: "+05551234567"))
        XCTAssertNil(PhoneNumber(e164: "+1234567"))
        XCTAssertNil(PhoneNumber(e164: "+1234567890123456"))
        XCTAssertNil(PhoneNumber(e164: "+١٢٣٤٥٦٧٨٩"), "only ASCII digits in the strict form")
        XCTAssertNil(PhoneNumber(e164: ""))
    }

    func testParsedNumbersAreEqualAndHashable() {
        let a = try! PhoneNumber.parse("+1 (555) 123-4567", defaultCountryCode: nil).get()
        let b = try! PhoneNumber.parse("555.123.4567", defaultCountryCode: "1").get()
        XCTAssertEqual(a, b)
        XCTAssertEqual(Set([a, b]).count, 1)
        XCTAssertEqual("\(a)", "+15551234567")
    }

    func testCodable() throws {
        let number = PhoneNumber(e164: "+447911123456")!
        let data = try JSONEncoder().encode([number])
        XCTAssertEqual(String(decoding: data, as: UTF8.self), #"["+447911123456"]"#)
        XCTAssertEqual(try JSONDecoder().decode([PhoneNumber].self, from: data), [number])
        XCTAssertThrowsError(try JSONDecoder().decode([PhoneNumber].self, from: Data(#"["07911 123456"]"#.utf8)))
    }
}
