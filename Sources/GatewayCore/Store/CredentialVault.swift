internal import COpenSSL

/// Seals credentials at rest with AES-256-GCM from the system's libcrypto.
///
/// A sealed value is `version (1 byte, 1) | nonce (12 random bytes) | ciphertext | tag (16 bytes)`.
/// The associated data is authenticated but not stored: opening needs the same bytes, so a
/// sealed value bound to one database row cannot be moved to another.
public struct CredentialVault: Sendable {
    /// The length of a key, in bytes.
    public static let keyLength = 32
    static let formatVersion: UInt8 = 1
    static let nonceLength = 12
    static let tagLength = 16
    /// The smallest sealed value: the one for an empty plaintext.
    static let overhead = 1 + nonceLength + tagLength

    private let key: [UInt8]

    /// Makes a vault from a raw 32-byte key.
    public init(key: [UInt8]) throws(VaultError) {
        guard key.count == Self.keyLength else { throw .wrongKeyLength(key.count) }
        self.key = key
    }

    /// Encrypts and authenticates `plaintext`, binding it to `associatedData`.
    ///
    /// Every call draws a fresh random nonce, so sealing the same plaintext twice gives
    /// different bytes.
    public func seal(_ plaintext: [UInt8], associatedData: [UInt8] = []) -> [UInt8] {
        precondition(plaintext.count < Int(Int32.max) && associatedData.count < Int(Int32.max), "too large to seal")
        let nonce = Self.randomBytes(Self.nonceLength)
        let context = Self.makeContext()
        defer { EVP_CIPHER_CTX_free(context) }

        // Failures here mean libcrypto itself is broken (no AES-GCM, out of memory): there is
        // nothing sensible to store instead, and storing a credential unsealed is not an option.
        precondition(EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil) == 1, "AES-256-GCM is unavailable")
        precondition(EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(Self.nonceLength), nil) == 1)
        precondition(EVP_EncryptInit_ex(context, nil, nil, key, nonce) == 1)
        precondition(Self.update(context, associatedData: associatedData, encrypting: true))

        var ciphertext = [UInt8](repeating: 0, count: plaintext.count)
        precondition(Self.update(context, input: plaintext, output: &ciphertext, encrypting: true))
        var finalLength: Int32 = 0
        var scratch = [UInt8](repeating: 0, count: 16)
        precondition(EVP_EncryptFinal_ex(context, &scratch, &finalLength) == 1 && finalLength == 0)

        var tag = [UInt8](repeating: 0, count: Self.tagLength)
        precondition(EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagLength), &tag) == 1)

        var sealed: [UInt8] = []
        sealed.reserveCapacity(Self.overhead + plaintext.count)
        sealed.append(Self.formatVersion)
        sealed += nonce
        sealed += ciphertext
        sealed += tag
        return sealed
    }

    /// Checks and decrypts a value made by ``seal(_:associatedData:)`` with the same key and
    /// the same associated data.
    ///
    /// - Throws: ``VaultError/truncated(length:)``, ``VaultError/unsupportedVersion(_:)``, or
    ///   ``VaultError/authenticationFailed`` for altered bytes, another key or other associated data.
    public func open(_ sealed: [UInt8], associatedData: [UInt8] = []) throws(VaultError) -> [UInt8] {
        guard sealed.count >= Self.overhead else { throw .truncated(length: sealed.count) }
        guard sealed[0] == Self.formatVersion else { throw .unsupportedVersion(sealed[0]) }
        // OpenSSL counts in Int32; nothing this large was ever sealed here.
        guard sealed.count <= Int(Int32.max), associatedData.count <= Int(Int32.max) else { throw .authenticationFailed }
        let nonce = Array(sealed[1 ..< 1 + Self.nonceLength])
        let ciphertext = Array(sealed[1 + Self.nonceLength ..< sealed.count - Self.tagLength])
        var tag = Array(sealed[(sealed.count - Self.tagLength)...])

        let context = Self.makeContext()
        defer { EVP_CIPHER_CTX_free(context) }
        guard EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(Self.nonceLength), nil) == 1,
              EVP_DecryptInit_ex(context, nil, nil, key, nonce) == 1,
              Self.update(context, associatedData: associatedData, encrypting: false)
        else { throw .authenticationFailed }

        var plaintext = [UInt8](repeating: 0, count: ciphertext.count)
        guard Self.update(context, input: ciphertext, output: &plaintext, encrypting: false),
              EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagLength), &tag) == 1
        else { throw .authenticationFailed }
        // The tag is checked here; until it passes, `plaintext` must not leave this function.
        var finalLength: Int32 = 0
        var scratch = [UInt8](repeating: 0, count: 16)
        guard EVP_DecryptFinal_ex(context, &scratch, &finalLength) == 1 else {
            ERR_clear_error()
            throw .authenticationFailed
        }
        return plaintext
    }

    /// `count` bytes from libcrypto's CSPRNG.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        // A nonce or key from a failed generator could repeat; stopping is the only safe answer.
        precondition(RAND_bytes(&bytes, Int32(count)) == 1, "the system random generator failed")
        return bytes
    }

    private static func makeContext() -> OpaquePointer {
        guard let context = EVP_CIPHER_CTX_new() else { fatalError("out of memory for a cipher context") }
        return context
    }

    /// Feeds associated data; OpenSSL takes it as an update with no output buffer.
    private static func update(_ context: OpaquePointer, associatedData: [UInt8], encrypting: Bool) -> Bool {
        guard !associatedData.isEmpty else { return true }
        var length: Int32 = 0
        let result = associatedData.withUnsafeBufferPointer { input in
            encrypting
                ? EVP_EncryptUpdate(context, nil, &length, input.baseAddress, Int32(input.count))
                : EVP_DecryptUpdate(context, nil, &length, input.baseAddress, Int32(input.count))
        }
        return result == 1
    }

    /// GCM is a stream mode: the output is exactly as long as the input.
    private static func update(_ context: OpaquePointer, input: [UInt8], output: inout [UInt8], encrypting: Bool) -> Bool {
        guard !input.isEmpty else { return true }
        var length: Int32 = 0
        let result = input.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { output in
                encrypting
                    ? EVP_EncryptUpdate(context, output.baseAddress, &length, input.baseAddress, Int32(input.count))
                    : EVP_DecryptUpdate(context, output.baseAddress, &length, input.baseAddress, Int32(input.count))
            }
        }
        return result == 1 && Int(length) == input.count
    }
}
