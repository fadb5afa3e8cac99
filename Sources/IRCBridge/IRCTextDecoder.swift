/// Turns bytes received from IRC into text.
///
/// IRC has no declared encoding. Most clients send UTF-8 today, but old clients and some
/// networks still send ISO-8859-1 (or Windows-1252). The rule biboumi and most clients follow:
/// a line that is valid UTF-8 is UTF-8; anything else is latin-1, where every byte is the code
/// point of the same value, so decoding never fails and never loses a byte.
///
/// The decision is taken per line (or per parameter, when a library has already split the line),
/// never per character: guessing each byte separately would turn a latin-1 line that happens to
/// contain a valid UTF-8 pair into mojibake in the middle of a word.
public enum IRCTextDecoder {
    /// `bytes` as text: UTF-8 when they are valid UTF-8, latin-1 otherwise.
    public static func decode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        if let text = String(validating: bytes, as: UTF8.self) {
            return text
        }
        return decodeLatin1(bytes)
    }

    /// `bytes` as ISO-8859-1: byte `b` becomes `U+00bb`.
    public static func decodeLatin1<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var scalars = String.UnicodeScalarView()
        scalars.reserveCapacity(bytes.count)
        for byte in bytes {
            scalars.append(Unicode.Scalar(byte))
        }
        return String(scalars)
    }
}
