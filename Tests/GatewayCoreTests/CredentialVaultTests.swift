#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import XCTest
@testable import GatewayCore

final class CredentialVaultTests: XCTestCase {
    private let key = [UInt8](0 ..< 32)

    private func vault(_ key: [UInt8]? = nil) throws(VaultError) -> CredentialVault {
        try CredentialVault(key: key ?? self.key)
    }

    private func assertThrows<T>(
        _ expected: VaultError, _ body: () throws(VaultError) -> T, file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            _ = try body()
            XCTFail("expected \(expected)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, file: file, line: line)
        }
    }

    // MARK: - Sealing

    func testRoundTrip() throws {
        let vault = try vault()
        for plaintext in [[], Array("hunter2".utf8), [UInt8](repeating: 0xAB, count: 1000)] {
            for associatedData in [[], Array("sms.example.org/alice@example.org".utf8)] {
                let sealed = vault.seal(plaintext, associatedData: associatedData)
                XCTAssertEqual(sealed.count, 1 + 12 + plaintext.count + 16)
                XCTAssertEqual(sealed.first, 1)
                XCTAssertEqual(try vault.open(sealed, associatedData: associatedData), plaintext)
            }
        }
    }

    func testNonceDiffersEachSeal() throws {
        let vault = try vault()
        let first = vault.seal(Array("same".utf8))
        let second = vault.seal(Array("same".utf8))
        XCTAssertNotEqual(first[1 ..< 13], second[1 ..< 13])
        XCTAssertNotEqual(first, second)
    }

    func testPlaintextDoesNotAppearInSealedBytes() throws {
        let secret = Array("correct horse battery staple".utf8)
        let sealed = try vault().seal(secret)
        XCTAssertNil(sealed.firstRange(of: secret))
    }

    func testTamperingWithAnyByteFails() throws {
        let vault = try vault()
        let sealed = vault.seal(Array("password".utf8), associatedData: [1, 2, 3])
        for index in sealed.indices {
            for flip: UInt8 in [0x01, 0x80] {
                var tampered = sealed
                tampered[index] ^= flip
                XCTAssertThrowsError(try vault.open(tampered, associatedData: [1, 2, 3]), "byte \(index)")
            }
        }
    }

    func testTruncationFails() throws {
        let vault = try vault()
        let sealed = vault.seal(Array("password".utf8))
        for length in 0 ..< sealed.count {
            XCTAssertThrowsError(try vault.open(Array(sealed.prefix(length))), "length \(length)")
        }
        assertThrows(.truncated(length: 5)) { () throws(VaultError) in try vault.open(Array(sealed.prefix(5))) }
        XCTAssertThrowsError(try vault.open(sealed + [0]))
    }

    func testWrongKeyFails() throws {
        let sealed = try vault().seal(Array("password".utf8))
        let other = try vault([UInt8](repeating: 7, count: 32))
        assertThrows(.authenticationFailed) { () throws(VaultError) in try other.open(sealed) }
    }

    func testWrongAssociatedDataFails() throws {
        let vault = try vault()
        let sealed = vault.seal(Array("password".utf8), associatedData: Array("alice".utf8))
        assertThrows(.authenticationFailed) { () throws(VaultError) in try vault.open(sealed, associatedData: Array("mallory".utf8)) }
        assertThrows(.authenticationFailed) { () throws(VaultError) in try vault.open(sealed) }
    }

    func testUnknownVersionFails() throws {
        var sealed = try vault().seal(Array("password".utf8))
        sealed[0] = 2
        assertThrows(.unsupportedVersion(2)) { () throws(VaultError) in try self.vault().open(sealed) }
    }

    /// AES-256-GCM test case 14 of McGrew and Viega's GCM specification: zero key, zero
    /// nonce, 16 zero bytes. Proves the format is standard AES-256-GCM, readable by any tool.
    func testKnownAnswer() throws {
        let vault = try vault([UInt8](repeating: 0, count: 32))
        let ciphertext: [UInt8] = [0xce, 0xa7, 0x40, 0x3d, 0x4d, 0x60, 0x6b, 0x6e, 0x07, 0x4e, 0xc5, 0xd3, 0xba, 0xf3, 0x9d, 0x18]
        let tag: [UInt8] = [0xd0, 0xd1, 0xc8, 0xa7, 0x99, 0x99, 0x6b, 0xf0, 0x26, 0x5b, 0x98, 0xb5, 0xd4, 0x8a, 0xb9, 0x19]
        let sealed = [1] + [UInt8](repeating: 0, count: 12) + ciphertext + tag
        XCTAssertEqual(try vault.open(sealed), [UInt8](repeating: 0, count: 16))
    }

    func testKeyMustBe32Bytes() {
        assertThrows(.wrongKeyLength(16)) { () throws(VaultError) in try CredentialVault(key: [UInt8](repeating: 0, count: 16)) }
        assertThrows(.wrongKeyLength(0)) { () throws(VaultError) in try CredentialVault(key: []) }
        XCTAssertThrowsError(try CredentialVault(key: [UInt8](repeating: 0, count: 33)))
    }

    // MARK: - Key text

    func testGeneratedKeyTextIsLowerCaseHexAndParses() throws {
        let text = CredentialVault.generateKeyText()
        XCTAssertEqual(text.count, 64)
        XCTAssertTrue(text.allSatisfy { "0123456789abcdef".contains($0) })
        XCTAssertEqual(try CredentialVault.key(fromText: text).count, 32)
        XCTAssertNotEqual(text, CredentialVault.generateKeyText())
    }

    func testHexKeyText() throws {
        let hex = key.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        XCTAssertEqual(try CredentialVault.key(fromText: hex), key)
        XCTAssertEqual(try CredentialVault.key(fromText: hex.uppercased()), key)
        XCTAssertEqual(try CredentialVault.key(fromText: "  \(hex)\n"), key)
        XCTAssertEqual(try CredentialVault.key(fromText: "\t\(hex)\r\n\n"), key)
    }

    func testBase64KeyText() throws {
        let base64 = Data(key).base64EncodedString()
        XCTAssertEqual(try CredentialVault.key(fromText: base64), key)
        XCTAssertEqual(try CredentialVault.key(fromText: base64 + "\n"), key)
    }

    func testMalformedKeyTextSaysWhatIsWrongWithoutTheKey() {
        let hex = key.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        let cases: [(String, String)] = [
            (String(hex.dropLast()), "63 hexadecimal characters"),
            (hex + "00", "66 hexadecimal characters"),
            (Data([UInt8](repeating: 9, count: 16)).base64EncodedString(), "base64 of 16 bytes"),
            (Data([UInt8](repeating: 9, count: 48)).base64EncodedString(), "base64 of 48 bytes"),
            ("not a key at all!", "neither hexadecimal nor base64"),
            ("   \n", "empty"),
        ]
        for (text, expected) in cases {
            do {
                _ = try CredentialVault.key(fromText: text)
                XCTFail("accepted \(text)")
            } catch {
                XCTAssertTrue(error.description.contains(expected), error.description)
                XCTAssertTrue(error.description.contains("causeway generate-key"), error.description)
                let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if !trimmed.isEmpty { XCTAssertFalse(error.description.contains(trimmed), error.description) }
            }
        }
    }

    // MARK: - Loading

    func testLoadFromEnvironment() throws {
        let name = "CAUSEWAY_TEST_VAULT_KEY_\(UInt32.random(in: 0 ... .max))"
        defer { unsetenv(name) }
        assertThrows(.environmentVariableUnset(name: name)) { () throws(VaultError) in try CredentialVault.load(.environment(name)) }

        setenv(name, "", 1)
        assertThrows(.environmentVariableEmpty(name: name)) { () throws(VaultError) in try CredentialVault.load(.environment(name)) }

        setenv(name, "abcd", 1)
        do {
            _ = try CredentialVault.load(.environment(name))
            XCTFail("accepted a short key")
        } catch {
            XCTAssertTrue(error.description.contains("environment variable \(name)"), error.description)
            XCTAssertTrue(error.description.contains("4 hexadecimal characters"), error.description)
        }

        let text = CredentialVault.generateKeyText()
        setenv(name, text, 1)
        let loaded = try CredentialVault.load(.environment(name))
        let reference = try CredentialVault(key: CredentialVault.key(fromText: text))
        XCTAssertEqual(try reference.open(loaded.seal([42])), [42])
    }

    func testLoadFromFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vault-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        let path = folder.appendingPathComponent("vault.key").path
        assertThrows(.keyFileMissing(path: path)) { () throws(VaultError) in try CredentialVault.load(.file(path)) }
        XCTAssertTrue(VaultError.keyFileMissing(path: path).description.contains("causeway generate-key --output \(path)"))

        do {
            _ = try CredentialVault.load(.file(folder.path))
            XCTFail("accepted a folder")
        } catch {
            XCTAssertTrue(error.description.contains("a folder or not a regular file"), error.description)
        }

        let wrong = Data([UInt8](repeating: 1, count: 31)).base64EncodedString()
        try (wrong + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try CredentialVault.load(.file(path))
            XCTFail("accepted a 31-byte key")
        } catch {
            XCTAssertTrue(error.description.contains("the file \(path)"), error.description)
            XCTAssertTrue(error.description.contains("base64 of 31 bytes"), error.description)
            XCTAssertFalse(error.description.contains(wrong), error.description)
        }

        let text = CredentialVault.generateKeyText()
        try (text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let loaded = try CredentialVault.load(.file(path))
        let reference = try CredentialVault(key: CredentialVault.key(fromText: text))
        XCTAssertEqual(try reference.open(loaded.seal([42])), [42])
    }
}
