/// Why the credential vault could not be set up or could not open a sealed value.
///
/// Messages say what to fix and never contain key material.
public enum VaultError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A raw key was not 32 bytes long.
    case wrongKeyLength(Int)
    /// Key text was neither 64 hexadecimal characters nor the base64 of 32 bytes; the reason
    /// describes the text's shape, never its content.
    case malformedKeyText(reason: String)
    /// The configured key file does not exist.
    case keyFileMissing(path: String)
    /// The configured key file exists but could not be read.
    case keyFileUnreadable(path: String, reason: String)
    /// The configured environment variable is not set.
    case environmentVariableUnset(name: String)
    /// The configured environment variable is set but empty.
    case environmentVariableEmpty(name: String)
    /// A key was found at `source` (a file or an environment variable) but is not usable.
    case unusableKey(source: String, reason: String)
    /// A sealed value is shorter than the smallest possible sealed value.
    case truncated(length: Int)
    /// A sealed value starts with a format version this build does not know.
    case unsupportedVersion(UInt8)
    /// The sealed value was altered, or was sealed with another key or other associated data.
    case authenticationFailed

    public var description: String {
        switch self {
        case .wrongKeyLength(let count):
            return "the vault key is \(count) bytes long; it must be exactly \(CredentialVault.keyLength) bytes"
        case .malformedKeyText(let reason):
            return "the vault key is not usable: \(reason); \(Self.keyHelp)"
        case .keyFileMissing(let path):
            return "the vault key file \(path) does not exist; create it with `causeway generate-key --output \(path)` (readable only by the daemon's user)"
        case .keyFileUnreadable(let path, let reason):
            return "the vault key file \(path) cannot be read: \(reason)"
        case .environmentVariableUnset(let name):
            return "the environment variable \(name) that should hold the vault key is not set; \(Self.keyHelp)"
        case .environmentVariableEmpty(let name):
            return "the environment variable \(name) that should hold the vault key is empty; \(Self.keyHelp)"
        case .unusableKey(let source, let reason):
            return "the vault key in \(source) is not usable: \(reason); \(Self.keyHelp)"
        case .truncated(let length):
            return "a sealed value is \(length) bytes long, too short to be one; it was cut off or is not a sealed value"
        case .unsupportedVersion(let version):
            return "a sealed value has format version \(version), which this version of Causeway cannot open"
        case .authenticationFailed:
            return "a sealed value cannot be opened: it was altered, or sealed with another vault key"
        }
    }

    private static let keyHelp =
        "a key is 64 hexadecimal characters or the base64 of 32 bytes (make one with `causeway generate-key`)"
}
