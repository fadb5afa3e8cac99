/// mIRC-style formatting in text received from IRC.
///
/// XMPP bodies are plain text (and XML 1.0 cannot even carry most C0 control characters), so
/// the bridge removes the codes before it puts IRC text into a stanza.
public enum IRCFormatting {
    /// `text` without mIRC formatting: bold `\x02`, colour `\x03` (with up to two digits of
    /// foreground and, after a comma, up to two of background), hex colour `\x04` (six hex
    /// digits, optionally `,` and six more), reset `\x0F`, reverse `\x16`, italics `\x1D`,
    /// strike-through `\x1E`, underline `\x1F`, monospace `\x11`.
    ///
    /// A comma after a colour code is only part of the code when a background colour follows
    /// (`\x034,` + `5` vs `\x034, hello`), so ordinary commas survive.
    public static func strip(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            let scalar = scalars[i]
            switch scalar.value {
            case 0x03:
                i += 1
                let fg = countPrefix(scalars, from: i, max: 2, where: isDigit)
                i += fg
                if fg > 0, i + 1 < scalars.count, scalars[i] == ",", isDigit(scalars[i + 1]) {
                    i += 1 + countPrefix(scalars, from: i + 1, max: 2, where: isDigit)
                }
            case 0x04:
                i += 1
                if countPrefix(scalars, from: i, max: 6, where: isHexDigit) == 6 {
                    i += 6
                    if i < scalars.count, scalars[i] == ",",
                        countPrefix(scalars, from: i + 1, max: 6, where: isHexDigit) == 6
                    {
                        i += 7
                    }
                }
            case 0x02, 0x0F, 0x11, 0x16, 0x1D, 0x1E, 0x1F:
                i += 1
            default:
                out.append(scalar)
                i += 1
            }
        }
        return String(out)
    }

    /// `text` ready for an XMPP body: formatting stripped (``strip(_:)``), then every C0 control
    /// character other than TAB, and DEL, removed — XML 1.0 forbids most of them, and a stray
    /// `\x01` or BEL means nothing to an XMPP user.
    public static func plainText(_ text: String) -> String {
        // Formatting codes and everything removed here are C0 controls or DEL, which most
        // lines do not contain: those are returned as they are.
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in strip(text).unicodeScalars {
            if (scalar.value < 0x20 && scalar.value != 0x09) || scalar.value == 0x7F { continue }
            out.append(scalar)
        }
        return String(out)
    }

    private static func countPrefix(
        _ scalars: [Unicode.Scalar], from start: Int, max: Int, where test: (Unicode.Scalar) -> Bool
    ) -> Int {
        var n = 0
        while n < max, start + n < scalars.count, test(scalars[start + n]) { n += 1 }
        return n
    }

    private static func isDigit(_ s: Unicode.Scalar) -> Bool { (0x30...0x39).contains(s.value) }

    private static func isHexDigit(_ s: Unicode.Scalar) -> Bool {
        isDigit(s) || (0x41...0x46).contains(s.value) || (0x61...0x66).contains(s.value)
    }
}
