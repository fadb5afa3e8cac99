import XCTest
@testable import XMPPCore

final class JIDTests: XCTestCase {
    // MARK: Helpers

    private func assertJID(
        _ string: String, local: String?, domain: String, resource: String?,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            let jid = try JID(string)
            XCTAssertEqual(jid.localpart, local, "localpart of \(string)", file: file, line: line)
            XCTAssertEqual(jid.domainpart, domain, "domainpart of \(string)", file: file, line: line)
            XCTAssertEqual(jid.resourcepart, resource, "resourcepart of \(string)", file: file, line: line)
        } catch {
            XCTFail("\(string) should parse, got \(error)", file: file, line: line)
        }
    }

    private func assertInvalid(
        _ string: String, _ expected: JIDError,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try JID(string), "\(string) should not parse", file: file, line: line) { error in
            XCTAssertEqual(error as? JIDError, expected, "error for \(string)", file: file, line: line)
        }
        XCTAssertNil(JID(string: string), file: file, line: line)
    }

    private func assertInvalidParts(
        local: String?, domain: String, resource: String? = nil, _ expected: JIDError,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(
            try JID(localpart: local, domainpart: domain, resourcepart: resource), file: file, line: line
        ) { error in
            XCTAssertEqual(error as? JIDError, expected, file: file, line: line)
        }
    }

    // MARK: Valid forms

    func testDomainOnly() {
        assertJID("example.com", local: nil, domain: "example.com", resource: nil)
        assertJID("localhost", local: nil, domain: "localhost", resource: nil)
    }

    func testBareJID() {
        assertJID("alice@example.com", local: "alice", domain: "example.com", resource: nil)
    }

    func testFullJID() {
        assertJID("alice@example.com/laptop", local: "alice", domain: "example.com", resource: "laptop")
    }

    func testDomainWithResource() {
        assertJID("gateway.example/irc", local: nil, domain: "gateway.example", resource: "irc")
    }

    func testNonASCIIParts() {
        assertJID("jürgen@bücher.example/café ☕", local: "jürgen", domain: "bücher.example", resource: "café ☕")
        assertJID("東京@例え.jp", local: "東京", domain: "例え.jp", resource: nil)
    }

    func testLocalpartMayContainBackslashAndPercent() {
        // Both are the carriers of XEP-0106 escaping and gateway addressing.
        assertJID(#"d\27artagnan@example.com"#, local: #"d\27artagnan"#, domain: "example.com", resource: nil)
        assertJID("#swift%irc.libera.chat@irc.gw", local: "#swift%irc.libera.chat", domain: "irc.gw", resource: nil)
    }

    func testIPv4Domain() {
        assertJID("alice@192.0.2.1/r", local: "alice", domain: "192.0.2.1", resource: "r")
    }

    func testIPv6Domain() {
        assertJID("alice@[::1]", local: "alice", domain: "[::1]", resource: nil)
        assertJID("[2001:DB8::1]/r", local: nil, domain: "[2001:db8::1]", resource: "r")
        assertJID("a@[::ffff:192.0.2.1]", local: "a", domain: "[::ffff:192.0.2.1]", resource: nil)
    }

    func testInvalidIPv6Literals() {
        assertInvalid("a@[::1", .invalidIPv6Literal)
        assertInvalid("a@[]", .invalidIPv6Literal)
        assertInvalid("a@[1]", .invalidIPv6Literal)
        assertInvalid("a@[::g]", .invalidIPv6Literal)
        assertInvalid("a@[example.com]", .invalidIPv6Literal)
    }

    // MARK: Normalization

    func testLocalpartAndDomainAreLowercased() {
        assertJID("Alice@Example.COM/Laptop", local: "alice", domain: "example.com", resource: "Laptop")
        assertJID("ÄLICE@BÜCHER.example", local: "älice", domain: "bücher.example", resource: nil)
    }

    func testResourceKeepsCase() throws {
        XCTAssertNotEqual(try JID("a@b/Phone"), try JID("a@b/phone"))
    }

    func testCaseVariantsAreEqualAndHashAlike() throws {
        let upper = try JID("ALICE@EXAMPLE.COM/r")
        let lower = try JID("alice@example.com/r")
        XCTAssertEqual(upper, lower)
        XCTAssertEqual(Set([upper, lower]).count, 1)
    }

    func testTrailingDotIsRemovedFromDomain() {
        assertJID("example.com.", local: nil, domain: "example.com", resource: nil)
        assertJID("alice@example.com./r", local: "alice", domain: "example.com", resource: "r")
    }

    func testLengthIsCheckedAfterCaseMapping() {
        // U+0130 is 2 bytes of UTF-8 but lowercases to "i" + U+0307, 3 bytes.
        let dottedI = String(repeating: "\u{130}", count: 500)
        XCTAssertEqual(dottedI.utf8.count, 1000)
        assertInvalidParts(local: dottedI, domain: "example.com", .tooLong(part: .localpart))
    }

    // MARK: Parsing separators

    func testResourceMayContainSlashAndAt() {
        assertJID("alice@example.com/a/b@c", local: "alice", domain: "example.com", resource: "a/b@c")
        assertJID("example.com/@/", local: nil, domain: "example.com", resource: "@/")
        assertJID("room@muc.example/nick@home/2", local: "room", domain: "muc.example", resource: "nick@home/2")
    }

    func testAtAfterSlashBelongsToResource() {
        // The '@' is after the first '/', so there is no localpart.
        assertJID("example.com/alice@home", local: nil, domain: "example.com", resource: "alice@home")
    }

    func testSecondAtMakesDomainInvalid() {
        assertInvalid("a@b@c", .forbiddenCharacter(part: .domainpart, character: "@"))
    }

    func testCombiningMarkDoesNotHideSeparators() {
        // "/\u{301}" is a single Character, but '/' still separates the resource.
        assertJID("a@b/\u{301}x", local: "a", domain: "b", resource: "\u{301}x")
        assertJID("a@\u{301}b", local: "a", domain: "\u{301}b", resource: nil)
    }

    // MARK: Empty parts

    func testEmptyParts() {
        assertInvalid("", .emptyDomain)
        assertInvalid("@example.com", .emptyLocalpart)
        assertInvalid("alice@", .emptyDomain)
        assertInvalid("alice@/r", .emptyDomain)
        assertInvalid("/r", .emptyDomain)
        assertInvalid("alice@example.com/", .emptyResource)
        assertInvalid("example.com/", .emptyResource)
        assertInvalid("@", .emptyLocalpart)
        assertInvalid(".", .emptyDomain)
        assertInvalid("alice@.", .emptyDomain)
    }

    func testEmptyPartsFromComponents() {
        assertInvalidParts(local: "", domain: "example.com", .emptyLocalpart)
        assertInvalidParts(local: nil, domain: "", .emptyDomain)
        assertInvalidParts(local: "a", domain: "example.com", resource: "", .emptyResource)
    }

    func testEmptyDomainLabels() {
        assertInvalid("a@example..com", .emptyDomainLabel)
        assertInvalid("a@.example.com", .emptyDomainLabel)
        assertInvalid("a@example.com..", .emptyDomainLabel)
        assertInvalid("..", .emptyDomainLabel)
    }

    // MARK: Forbidden characters

    func testEachForbiddenLocalpartCharacter() {
        for character: Unicode.Scalar in ["\"", "&", "'", "/", ":", "<", ">", "@", " "] {
            assertInvalidParts(
                local: "a\(character)b", domain: "example.com",
                .forbiddenCharacter(part: .localpart, character: character)
            )
        }
    }

    func testForbiddenLocalpartCharactersInStringForm() {
        // '/' and '@' cannot reach the localpart of a parsed string; these can.
        for character: Unicode.Scalar in ["\"", "&", "'", ":", "<", ">", " "] {
            assertInvalid("a\(character)b@example.com", .forbiddenCharacter(part: .localpart, character: character))
        }
    }

    func testLocalpartRejectsUnicodeWhitespace() {
        let whitespace: [Unicode.Scalar] = ["\t", "\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{1680}",
                                            "\u{2003}", "\u{2028}", "\u{202F}", "\u{3000}"]
        for scalar in whitespace {
            assertInvalidParts(
                local: "a\(scalar)b", domain: "example.com",
                .forbiddenCharacter(part: .localpart, character: scalar)
            )
        }
    }

    func testLocalpartRejectsControlCharacters() {
        for scalar: Unicode.Scalar in ["\u{0}", "\u{1}", "\u{1B}", "\u{7F}", "\u{9F}"] {
            assertInvalidParts(
                local: "a\(scalar)b", domain: "example.com",
                .forbiddenCharacter(part: .localpart, character: scalar)
            )
        }
    }

    func testDomainRejectsForbiddenCharacters() {
        for scalar: Unicode.Scalar in [" ", "\t", "\u{A0}", "\u{0}", "\u{7F}", "@", "/", ":", "[", "]"] {
            assertInvalidParts(
                local: nil, domain: "exa\(scalar)mple.com",
                .forbiddenCharacter(part: .domainpart, character: scalar)
            )
        }
        assertInvalid("example.com:5222", .forbiddenCharacter(part: .domainpart, character: ":"))
    }

    func testResourceAllowsAnythingButControls() throws {
        let resource = #"My Phone "2" & <other> 'stuff' @home/x:y \ ☕"#
        let jid = try JID(localpart: "a", domainpart: "b", resourcepart: resource)
        XCTAssertEqual(jid.resourcepart, resource)
        for scalar: Unicode.Scalar in ["\u{0}", "\t", "\n", "\u{7F}", "\u{85}"] {
            assertInvalidParts(
                local: "a", domain: "b", resource: "r\(scalar)",
                .forbiddenCharacter(part: .resourcepart, character: scalar)
            )
        }
    }

    /// Every ASCII character, in each part, against the rules stated on ``JID`` (ASCII takes
    /// a fast path of its own; this keeps it in step with the general one).
    func testEveryASCIICharacterInEachPart() {
        let localpartForbidden = Set(#""&'/:<>@"#.unicodeScalars)
        let domainForbidden = Set("@/:[]".unicodeScalars)
        for value in UInt8(0)...UInt8(0x7F) {
            let scalar = Unicode.Scalar(value)
            let isControl = value < 0x20 || value == 0x7F
            let isWhitespace = (0x09...0x0D).contains(value) || value == 0x20
            let lower = Character(scalar).lowercased()

            let local = try? JID(localpart: "A\(scalar)b", domainpart: "example.com")
            if localpartForbidden.contains(scalar) || isControl || isWhitespace {
                XCTAssertNil(local, "localpart with \(value)")
            } else {
                XCTAssertEqual(local?.localpart, "a\(lower)b", "localpart with \(value)")
            }

            let domain = try? JID(localpart: nil, domainpart: "Exa\(scalar)mple.com")
            if domainForbidden.contains(scalar) || isControl || isWhitespace {
                XCTAssertNil(domain, "domainpart with \(value)")
            } else {
                XCTAssertEqual(domain?.domainpart, "exa\(lower)mple.com", "domainpart with \(value)")
            }

            let resource = try? JID(localpart: "a", domainpart: "b", resourcepart: "R\(scalar)")
            XCTAssertEqual(resource?.resourcepart, isControl ? nil : "R\(scalar)", "resourcepart with \(value)")
        }
        XCTAssertEqual(try? JID("a@Example.COM.").domainpart, "example.com")
    }

    // MARK: Length limits

    func testLocalpartLength() throws {
        let ok = String(repeating: "a", count: 1023)
        XCTAssertEqual(try JID(localpart: ok, domainpart: "example.com").localpart, ok)
        assertInvalidParts(local: ok + "a", domain: "example.com", .tooLong(part: .localpart))
    }

    func testDomainpartLength() throws {
        // 1023 bytes made of 63-byte labels, as a real host name would be.
        let label = String(repeating: "d", count: 63)
        var domain = Array(repeating: label, count: 15).joined(separator: ".")
        domain += "." + String(repeating: "d", count: 1023 - domain.utf8.count - 1)
        XCTAssertEqual(domain.utf8.count, 1023)
        XCTAssertEqual(try JID(localpart: nil, domainpart: domain).domainpart, domain)
        assertInvalidParts(local: nil, domain: domain + "d", .tooLong(part: .domainpart))
        // The trailing dot is removed before the length is checked.
        XCTAssertEqual(try JID(localpart: nil, domainpart: domain + ".").domainpart, domain)
    }

    func testResourcepartLength() throws {
        let ok = String(repeating: "R", count: 1023)
        XCTAssertEqual(try JID(localpart: nil, domainpart: "b", resourcepart: ok).resourcepart, ok)
        assertInvalidParts(local: nil, domain: "b", resource: ok + "R", .tooLong(part: .resourcepart))
    }

    func testLengthIsCountedInUTF8Bytes() throws {
        // 511 × "é" (2 bytes) + "a" = 1023 bytes but only 512 characters.
        let ok = String(repeating: "é", count: 511) + "a"
        XCTAssertEqual(try JID(localpart: ok, domainpart: "b").localpart, ok)
        assertInvalidParts(local: ok + "a", domain: "b", .tooLong(part: .localpart))
        assertInvalidParts(local: nil, domain: "b", resource: String(repeating: "☕", count: 342), .tooLong(part: .resourcepart))
    }

    func testLengthLimitsInStringForm() {
        let part = String(repeating: "x", count: 1023)
        assertJID("\(part)@\(part)/\(part)", local: part, domain: part, resource: part)
        assertInvalid("\(part)x@b", .tooLong(part: .localpart))
        assertInvalid("a@\(part)x", .tooLong(part: .domainpart))
        assertInvalid("a@b/\(part)x", .tooLong(part: .resourcepart))
    }

    // MARK: Derived JIDs and string form

    func testBareAndIsBare() throws {
        let full = try JID("alice@example.com/laptop")
        XCTAssertFalse(full.isBare)
        XCTAssertTrue(full.bare.isBare)
        XCTAssertEqual(full.bare, try JID("alice@example.com"))
        XCTAssertEqual(try JID("example.com/r").bare, try JID("example.com"))
    }

    func testWithResource() throws {
        let bare = try JID("alice@example.com")
        XCTAssertEqual(try bare.withResource("Phone").description, "alice@example.com/Phone")
        XCTAssertEqual(try bare.withResource("a/b").withResource(nil), bare)
        XCTAssertThrowsError(try bare.withResource("")) { error in
            XCTAssertEqual(error as? JIDError, .emptyResource)
        }
        XCTAssertThrowsError(try bare.withResource("\u{0}")) { error in
            XCTAssertEqual(error as? JIDError, .forbiddenCharacter(part: .resourcepart, character: "\u{0}"))
        }
    }

    func testDescription() throws {
        XCTAssertEqual(try JID("example.com").description, "example.com")
        XCTAssertEqual(try JID("Alice@Example.com.").description, "alice@example.com")
        XCTAssertEqual(try JID("a@b/c/d@e").description, "a@b/c/d@e")
        XCTAssertEqual(String(describing: try JID("gw.example/x")), "gw.example/x")
    }

    func testDescriptionRoundTrip() throws {
        let strings = [
            "example.com", "alice@example.com", "alice@example.com/r", "example.com/a/b@c",
            #"d\27artagnan@example.com/Home Office"#, "a@[::1]/x", "東京@例え.jp/☕",
        ]
        for string in strings {
            let jid = try JID(string)
            XCTAssertEqual(jid.description, string)
            XCTAssertEqual(try JID(jid.description), jid)
        }
        let built = try JID(localpart: "Bob", domainpart: "Example.org.", resourcepart: "x/y@z")
        XCTAssertEqual(try JID(built.description), built)
    }

    func testFailableInit() {
        XCTAssertEqual(JID(string: "a@b/c")?.resourcepart, "c")
        XCTAssertNil(JID(string: "a@b/"))
    }

    // MARK: Error messages

    func testErrorDescriptions() {
        XCTAssertEqual(
            JIDError.forbiddenCharacter(part: .localpart, character: "@").description,
            "the localpart may not contain '@'"
        )
        XCTAssertEqual(
            JIDError.forbiddenCharacter(part: .localpart, character: " ").description,
            "the localpart may not contain a space (U+0020)"
        )
        XCTAssertEqual(
            JIDError.forbiddenCharacter(part: .resourcepart, character: "\t").description,
            "the resourcepart may not contain U+0009"
        )
        XCTAssertEqual(
            JIDError.forbiddenCharacter(part: .domainpart, character: "\u{3000}").description,
            "the domainpart may not contain U+3000"
        )
        XCTAssertEqual(JIDError.tooLong(part: .domainpart).description, "the domainpart is longer than 1023 bytes")
        XCTAssertEqual(JIDError.emptyLocalpart.description, "the localpart is empty (nothing before '@')")
        XCTAssertEqual(JIDError.emptyResource.description, "the resourcepart is empty (nothing after '/')")
        XCTAssertEqual(JIDError.emptyDomain.description, "the domainpart is empty")
        XCTAssertFalse(JIDError.emptyDomainLabel.description.isEmpty)
        XCTAssertFalse(JIDError.invalidIPv6Literal.description.isEmpty)
    }
}
