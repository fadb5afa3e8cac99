internal import COpenSSL

/// The carrier's webhook signature: `v1=` followed by the lower-case hex HMAC-SHA256, keyed with
/// the account's webhook secret, of `"<timestamp>.<raw body>"`. The timestamp (Unix seconds) is
/// sent alongside in ``timestampHeader`` and is part of the signed text so that a captured
/// request cannot be replayed later with a fresh timestamp.
///
/// The HMAC is computed by the system's libssl.
public enum WebhookSignature {
    /// The header carrying the Unix time, in seconds, at which the carrier signed the request.
    public static let timestampHeader = "X-Carrier-Timestamp"
    /// The header carrying `v1=<hex>`. Several comma-separated signatures may be sent while the
    /// carrier rotates secrets; one valid signature is enough.
    public static let signatureHeader = "X-Carrier-Signature"
    /// The scheme prefix of the only signature version there is.
    public static let versionPrefix = "v1="

    /// The value of ``signatureHeader`` for `body` signed at `timestamp`.
    public static func sign(secret: [UInt8], timestamp: Int, body: [UInt8]) -> String {
        versionPrefix + hex(mac(secret: secret, timestamp: timestamp, body: body))
    }

    /// The value of ``signatureHeader`` for `body` signed at `timestamp`, with the secret's UTF-8 bytes as key.
    public static func sign(secret: String, timestamp: Int, body: [UInt8]) -> String {
        sign(secret: Array(secret.utf8), timestamp: timestamp, body: body)
    }

    /// The raw 32-byte HMAC-SHA256 of `"<timestamp>.<body>"`.
    static func mac(secret: [UInt8], timestamp: Int, body: [UInt8]) -> [UInt8] {
        hmacSHA256(key: secret, message: Array("\(timestamp).".utf8) + body)
    }

    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // OpenSSL 3 refuses a NULL key pointer even with length 0, and an empty Swift array may
        // have no storage, so an empty key is passed as a one-byte buffer of length 0.
        let keyStorage = key.isEmpty ? [0] : key
        let result = keyStorage.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { messageBytes in
                HMAC(
                    EVP_sha256(),
                    keyBytes.baseAddress, Int32(key.count),
                    messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBytes.count,
                    &digest, &length
                )
            }
        }
        // HMAC only fails on allocation failure or a broken libssl; there is no safe way on.
        precondition(result != nil && length == 32, "libssl HMAC-SHA256 failed")
        return Array(digest.prefix(Int(length)))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var output = [UInt8]()
        output.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Bytes from hex digits (either case), or `nil` if `text` is not an even run of them.
    static func bytes(fromHex text: Substring) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var result = [UInt8]()
        result.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            result.append(high << 4 | low)
            index += 2
        }
        return result
    }

    /// Constant-time equality, so a forger cannot learn the signature byte by byte from timing.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBytes { aBytes in
            b.withUnsafeBytes { bBytes in
                CRYPTO_memcmp(aBytes.baseAddress, bBytes.baseAddress, a.count) == 0
            }
        }
    }
}
