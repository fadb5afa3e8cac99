internal import COpenSSL

/// XEP-0114's handshake value: SHA-1 over the stream id followed by the shared secret,
/// as lower-case hex. Computed with the system's libssl.
public enum HandshakeDigest {
    public static func compute(streamID: String, secret: String) -> String {
        var input = Array((streamID + secret).utf8)
        var digest = [UInt8](repeating: 0, count: Int(SHA_DIGEST_LENGTH))
        input.withUnsafeMutableBufferPointer { bytes in
            _ = SHA1(bytes.baseAddress, bytes.count, &digest)
        }
        return hex(digest)
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
}
