#if canImport(FoundationEssentials)
import FoundationEssentials  // not Foundation: its ICU clashes with libxml2's in modules that see CLibXML2
#else
import Foundation
#endif

extension CredentialVault {
    /// Where the daemon finds the vault key.
    public enum KeySource: Sendable, Hashable {
        /// A file holding the key text, e.g. `/etc/causeway/vault.key`.
        case file(String)
        /// An environment variable holding the key text, e.g. `CAUSEWAY_VAULT_KEY`.
        case environment(String)
    }

    /// A new random key as 64 lower-case hexadecimal characters, ready for a key file.
    public static func generateKeyText() -> String {
        let digits = Array("0123456789abcdef")
        var text = ""
        text.reserveCapacity(keyLength * 2)
        for byte in randomBytes(keyLength) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }

    /// Decodes key text: 64 hexadecimal characters (either case) or the standard base64 of
    /// 32 bytes. Surrounding whitespace and newlines are ignored, so `openssl rand -hex 32 > file`
    /// and `openssl rand -base64 32 > file` both work.
    public static func key(fromText text: String) throws(VaultError) -> [UInt8] {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .malformedKeyText(reason: "it is empty") }

        // Only hexadecimal digits: read as hex. A base64 key of 32 bytes always ends in "=",
        // so the two forms cannot be mistaken for each other.
        if trimmed.allSatisfy({ $0.isASCII && $0.isHexDigit }) {
            guard trimmed.count == keyLength * 2 else {
                throw .malformedKeyText(reason: "it has \(trimmed.count) hexadecimal characters instead of \(keyLength * 2)")
            }
            return hexBytes(trimmed)
        }
        guard let data = Data(base64Encoded: trimmed) else {
            throw .malformedKeyText(reason: "its \(trimmed.count) characters are neither hexadecimal nor base64")
        }
        guard data.count == keyLength else {
            throw .malformedKeyText(reason: "it is base64 of \(data.count) bytes instead of \(keyLength)")
        }
        return [UInt8](data)
    }

    /// Reads the key from `source` and makes the vault.
    ///
    /// Errors name the file or variable and what to change there, never the key.
    public static func load(_ source: KeySource) throws(VaultError) -> CredentialVault {
        let text: String
        let place: String
        switch source {
        case .file(let path):
            text = try readKeyFile(path)
            place = "the file \(path)"
        case .environment(let name):
            guard let value = ProcessInfo.processInfo.environment[name] else {
                throw .environmentVariableUnset(name: name)
            }
            guard !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw .environmentVariableEmpty(name: name)
            }
            text = value
            place = "the environment variable \(name)"
        }
        do {
            return try CredentialVault(key: key(fromText: text))
        } catch .malformedKeyText(let reason) {
            throw .unusableKey(source: place, reason: reason)
        }
    }

    private static func readKeyFile(_ path: String) throws(VaultError) -> String {
        let files = FileManager.default
        guard files.fileExists(atPath: path) else {
            throw .keyFileMissing(path: path)
        }
        guard files.isReadableFile(atPath: path) else {
            throw .keyFileUnreadable(path: path, reason: "permission denied; make it readable by the daemon's user")
        }
        guard let data = files.contents(atPath: path) else {
            throw .keyFileUnreadable(path: path, reason: "it is a folder or not a regular file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unusableKey(source: "the file \(path)", reason: "it is not text")
        }
        return text
    }

    private static func hexBytes(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var high: UInt8?
        for character in hex {
            let nibble = UInt8(character.hexDigitValue!)
            if let h = high {
                bytes.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return bytes
    }
}
