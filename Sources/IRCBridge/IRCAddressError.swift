/// Why a JID local part is not a usable IRC address. ``text`` is a sentence for the user; the
/// bridge puts it into the stanza error (`jid-malformed`) it answers with.
public enum IRCAddressError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The local part was empty where a name was needed.
    case empty
    /// A nick or channel was given without `%server` on a bridge not fixed to one network.
    case missingServer(name: String)
    /// Nothing before the last `%`.
    case missingName(server: String)
    /// The nick breaks RFC 2812's shape; `reason` says how.
    case invalidNick(String, reason: String)
    /// The channel name breaks the rules; `reason` says how.
    case invalidChannel(String, reason: String)
    /// The server part does not look like a host name or IP address.
    case invalidServer(String, reason: String)

    /// A sentence for the user.
    public var text: String {
        switch self {
        case .empty:
            "The address is empty: write nick%server or #channel%server."
        case .missingServer(let name):
            "“\(name)” needs the IRC server after a %, for example \(name)%irc.libera.chat."
        case .missingName(let server):
            "There is no nick or channel before “%\(server)”."
        case .invalidNick(let nick, let reason):
            "“\(Self.printable(nick))” is not a valid IRC nick: \(reason)."
        case .invalidChannel(let name, let reason):
            "“\(Self.printable(name))” is not a valid IRC channel name: \(reason)."
        case .invalidServer(let host, let reason):
            "“\(Self.printable(host))” is not a valid IRC server name: \(reason)."
        }
    }

    public var description: String { text }

    /// Control characters shown as `U+000D` so an error text never carries them either.
    static func printable(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "U+" + hex4(scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func describe(_ scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0x20: "a space"
        case 0x2C: "a comma"
        case 0x00: "a NUL character"
        case 0x0D: "a carriage return"
        case 0x0A: "a line feed"
        case 0x07: "a bell character"
        case 0..<0x20, 0x7F: "the control character U+" + hex4(scalar.value)
        default: "“\(Character(scalar))”"
        }
    }

    private static func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - h.count)) + h
    }
}
