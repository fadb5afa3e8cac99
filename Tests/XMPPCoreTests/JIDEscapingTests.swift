import XCTest
@testable import XMPPCore

final class JIDEscapingTests: XCTestCase {
    /// One row of XEP-0106 §5.1 "JID Examples" (localpart only; every row's domain is example.com).
    private struct Example {
        let number: Int
        let userInput: String
        /// The "Escaped JID" column of the XEP.
        let xepEscaped: String
        /// What `escape` produces: the XEP column, except rows 9–11 (see below).
        let escaped: String
    }

    // Rows 9–11 of the XEP's table escape a backslash that does not start an
    // escape sequence, which §4.3 ("foo\bar is not modified") forbids. We
    // follow §4.3, so `escape` leaves those backslashes alone; the XEP's form
    // still unescapes to the same user input.
    private let xepExamples: [Example] = [
        Example(number: 1, userInput: "space cadet", xepEscaped: #"space\20cadet"#, escaped: #"space\20cadet"#),
        Example(number: 2, userInput: #"call me "ishmael""#, xepEscaped: #"call\20me\20\22ishmael\22"#,
                escaped: #"call\20me\20\22ishmael\22"#),
        Example(number: 3, userInput: "at&t guy", xepEscaped: #"at\26t\20guy"#, escaped: #"at\26t\20guy"#),
        Example(number: 4, userInput: "d'artagnan", xepEscaped: #"d\27artagnan"#, escaped: #"d\27artagnan"#),
        Example(number: 5, userInput: "/.fanboy", xepEscaped: #"\2f.fanboy"#, escaped: #"\2f.fanboy"#),
        Example(number: 6, userInput: "::foo::", xepEscaped: #"\3a\3afoo\3a\3a"#, escaped: #"\3a\3afoo\3a\3a"#),
        Example(number: 7, userInput: "<foo>", xepEscaped: #"\3cfoo\3e"#, escaped: #"\3cfoo\3e"#),
        Example(number: 8, userInput: "user@host", xepEscaped: #"user\40host"#, escaped: #"user\40host"#),
        Example(number: 9, userInput: #"c:\net"#, xepEscaped: #"c\3a\5cnet"#, escaped: #"c\3a\net"#),
        Example(number: 10, userInput: #"c:\\net"#, xepEscaped: #"c\3a\5c\5cnet"#, escaped: #"c\3a\\net"#),
        Example(number: 11, userInput: #"c:\cool stuff"#, xepEscaped: #"c\3a\5ccool\20stuff"#,
                escaped: #"c\3a\cool\20stuff"#),
        Example(number: 12, userInput: #"c:\5commas"#, xepEscaped: #"c\3a\5c5commas"#, escaped: #"c\3a\5c5commas"#),
    ]

    // MARK: XEP-0106 §5.1 JID examples

    func testXEPExamplesEscape() {
        for example in xepExamples {
            XCTAssertEqual(JIDEscaping.escape(example.userInput), example.escaped, "row \(example.number)")
        }
    }

    func testXEPExamplesUnescape() {
        for example in xepExamples {
            XCTAssertEqual(JIDEscaping.unescape(example.xepEscaped), example.userInput, "row \(example.number)")
            XCTAssertEqual(JIDEscaping.unescape(example.escaped), example.userInput, "row \(example.number)")
        }
    }

    func testXEPExamplesMatchTheTableExceptRows9To11() {
        let differing = xepExamples.filter { $0.escaped != $0.xepEscaped }.map(\.number)
        XCTAssertEqual(differing, [9, 10, 11])
    }

    func testXEPExamplesAsFullJIDs() throws {
        for example in xepExamples {
            let jid = try JID(localpart: JIDEscaping.escape(example.userInput), domainpart: "example.com")
            XCTAssertEqual(jid.description, example.escaped + "@example.com", "row \(example.number)")
            // The XEP's own escaped form is a valid JID too, and reads back as the user input.
            let xepJID = try JID(example.xepEscaped + "@example.com")
            XCTAssertEqual(xepJID.localpart.map(JIDEscaping.unescape), example.userInput, "row \(example.number)")
        }
    }

    // MARK: XEP-0106 §3 mapping tables

    func testEachCharacterMapping() {
        let mappings: [(String, String)] = [
            (" ", #"\20"#), ("\"", #"\22"#), ("&", #"\26"#), ("'", #"\27"#), ("/", #"\2f"#),
            (":", #"\3a"#), ("<", #"\3c"#), (">", #"\3e"#), ("@", #"\40"#),
        ]
        for (plain, escaped) in mappings {
            XCTAssertEqual(JIDEscaping.escape("a\(plain)b"), "a\(escaped)b")
            XCTAssertEqual(JIDEscaping.unescape("a\(escaped)b"), "a\(plain)b")
        }
        XCTAssertEqual(JIDEscaping.unescape(#"a\5cb"#), #"a\b"#)
    }

    func testBackslashIsEscapedBeforeEachOfTheTenSequences() {
        for hex in ["20", "22", "26", "27", "2f", "3a", "3c", "3e", "40", "5c"] {
            XCTAssertEqual(JIDEscaping.escape(#"x\"# + hex), #"x\5c"# + hex)
            XCTAssertEqual(JIDEscaping.unescape(#"x\5c"# + hex), #"x\"# + hex)
        }
    }

    // MARK: XEP-0106 §4.3 exceptions

    func testPartialAndInvalidSequencesAreNotModified() {
        for string in [#"\2plus\2is\4"#, #"foo\bar"#, #"foob\41r"#] {
            XCTAssertEqual(JIDEscaping.escape(string), string)
            XCTAssertEqual(JIDEscaping.unescape(string), string)
        }
    }

    func testLoneBackslashes() {
        for string in [#"\"#, #"a\"#, #"\5"#, #"a\5"#, #"\\"#, #"a\2"#] {
            XCTAssertEqual(JIDEscaping.escape(string), string)
            XCTAssertEqual(JIDEscaping.unescape(string), string)
        }
    }

    func testUnescapeIsCaseSensitive() {
        // "CASE IS SIGNIFICANT": only lowercase sequences are unescaped.
        XCTAssertEqual(JIDEscaping.unescape(#"a\2Fb\3Ac\5C"#), #"a\2Fb\3Ac\5C"#)
    }

    func testEscapeProtectsUppercaseLookalikes() {
        // JID case mapping would turn "\2F" into "\2f", which reads as '/'.
        XCTAssertEqual(JIDEscaping.escape(#"a\2Fb"#), #"a\5c2Fb"#)
        XCTAssertEqual(JIDEscaping.unescape(#"a\5c2Fb"#), #"a\2Fb"#)
        XCTAssertEqual(JIDEscaping.unescape(#"a\5c2fb"#), #"a\2fb"#)
    }

    // MARK: XEP-0106 §5 address examples

    func testEmailExample() {
        let mailbox = "here's_a_wild_&_/cr%zy/_address"
        let escaped = #"here\27s_a_wild_\26_\2fcr%zy\2f_address"#
        XCTAssertEqual(JIDEscaping.escape(mailbox), escaped)
        XCTAssertEqual(JIDEscaping.unescape(escaped), mailbox)
    }

    func testIMPSExamples() {
        let address = #"here's_a_wild_&_/cr%zy/_address_for:<wv>("IMPS")"#
        let escaped = #"here\27s_a_wild_\26_\2fcr%zy\2f_address_for\3a\3cwv\3e(\22IMPS\22)"#
        XCTAssertEqual(JIDEscaping.escape(address), escaped)
        XCTAssertEqual(JIDEscaping.unescape(escaped), address)

        let withBackslashes = #"\3and\2is\5cool"#
        let escapedBackslashes = #"\5c3and\2is\5c5cool"#
        XCTAssertEqual(JIDEscaping.escape(withBackslashes), escapedBackslashes)
        XCTAssertEqual(JIDEscaping.unescape(escapedBackslashes), withBackslashes)
    }

    func testIRCExample() {
        let address = #"somenick!user"&'/:<>\3address"#
        let escaped = #"somenick!user\22\26\27\2f\3a\3c\3e\5c3address"#
        XCTAssertEqual(JIDEscaping.escape(address), escaped)
        XCTAssertEqual(JIDEscaping.unescape(escaped), address)
    }

    func testLDAPExample() {
        // The LDAP-escaped "\E9" is not a JID escape sequence and passes through.
        let name = #"CN=D'Artagnan Saint-Andr\E9,O=Example & Company, Inc.,DC=example,DC=com"#
        let escaped = #"CN=D\27Artagnan\20Saint-Andr\E9,O=Example\20\26\20Company,\20Inc.,DC=example,DC=com"#
        XCTAssertEqual(JIDEscaping.escape(name), escaped)
        XCTAssertEqual(JIDEscaping.unescape(escaped), name)
    }

    // MARK: Our decisions

    func testLeadingAndTrailingSpacesAreEscaped() throws {
        XCTAssertEqual(JIDEscaping.escape(" a "), #"\20a\20"#)
        XCTAssertEqual(JIDEscaping.unescape(#"\20a\20"#), " a ")
        XCTAssertNoThrow(try JID(localpart: JIDEscaping.escape("  "), domainpart: "example.com"))
    }

    func testOtherCharactersAreLeftAlone() {
        for string in ["", "alice", "#swift%irc.libera.chat", "+15551234567", "jürgen☕", "a\tb", "a\u{A0}b"] {
            XCTAssertEqual(JIDEscaping.escape(string), string)
            XCTAssertEqual(JIDEscaping.unescape(string), string)
        }
    }

    // MARK: Round trips over random strings

    /// Characters that stress the rules: the ten specials, hex digits of both
    /// cases that can complete a sequence, and a few bystanders.
    private let alphabet: [Character] = Array(#" "&'/:<>@\\\\\\025cCfFeEa34%xé"#)

    func testRoundTripOverRandomStrings() throws {
        var random = JIDTestRandomGenerator(seed: 0x0106)
        for _ in 0..<5_000 {
            let length = Int.random(in: 1...12, using: &random)
            let original = String((0..<length).map { _ in alphabet.randomElement(using: &random)! })
            let escaped = JIDEscaping.escape(original)

            XCTAssertEqual(JIDEscaping.unescape(escaped), original, "escaped: \(escaped)")
            // Escaped text is already in canonical form: unescaping and escaping again changes nothing.
            XCTAssertEqual(JIDEscaping.escape(JIDEscaping.unescape(escaped)), escaped)
            // It is always a valid localpart, and survives the JID's lowercasing.
            let jid = try JID(localpart: escaped, domainpart: "example.com")
            XCTAssertEqual(jid.localpart.map(JIDEscaping.unescape), original.lowercased(), "escaped: \(escaped)")
        }
    }

    func testEscapeIsInjectiveOverRandomStrings() {
        var random = JIDTestRandomGenerator(seed: 42)
        var seen: [String: String] = [:]
        for _ in 0..<5_000 {
            let length = Int.random(in: 0...6, using: &random)
            let original = String((0..<length).map { _ in alphabet.randomElement(using: &random)! })
            let escaped = JIDEscaping.escape(original)
            if let earlier = seen[escaped] {
                XCTAssertEqual(earlier, original, "two inputs escape to \(escaped)")
            }
            seen[escaped] = original
        }
    }
}

/// A seeded SplitMix64 generator, so that a failing random case can be replayed.
struct JIDTestRandomGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
