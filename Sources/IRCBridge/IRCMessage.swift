/// One line received from an IRC server, parsed (RFC 1459/2812 with IRCv3 message tags).
///
/// `@tags :prefix COMMAND middle middle :trailing`. The parser never traps on junk: a line it
/// cannot make sense of gives `nil`, and the bridge logs and skips it.
public struct IRCMessage: Hashable, Sendable {
    /// Who sent the line: `nick!user@host` for a user, a server name for a server.
    public struct Prefix: Hashable, Sendable {
        /// The nick, or the server name when there is no `!`/`@`.
        public var nick: String
        public var user: String?
        public var host: String?

        public init(nick: String, user: String? = nil, host: String? = nil) {
            self.nick = nick
            self.user = user
            self.host = host
        }

        /// Parses `nick!user@host`, `nick@host` or `server.name`.
        public init?(_ raw: Substring) {
            // Split on the bytes `@` and `!`, not on Characters: a combining mark after a
            // separator would otherwise hide it inside a grapheme cluster.
            let bytes = Array(raw.utf8)
            guard !bytes.isEmpty else { return nil }
            var nickEnd = bytes.count
            var host: String? = nil
            if let at = bytes.firstIndex(of: UInt8(ascii: "@")) {
                host = String(decoding: bytes[(at + 1)...], as: UTF8.self)
                nickEnd = at
            }
            var user: String? = nil
            if let bang = bytes[..<nickEnd].firstIndex(of: UInt8(ascii: "!")) {
                user = String(decoding: bytes[(bang + 1)..<nickEnd], as: UTF8.self)
                nickEnd = bang
            }
            guard nickEnd > 0 else { return nil }
            self.init(nick: String(decoding: bytes[..<nickEnd], as: UTF8.self), user: user, host: host)
        }

        /// Whether this is a server rather than a user: no user or host, and a dot in the name
        /// (nicks cannot contain dots).
        public var isServer: Bool {
            user == nil && host == nil && nick.contains(".")
        }

        /// `nick!user@host` again.
        public var raw: String {
            var s = nick
            if let user { s += "!" + user }
            if let host { s += "@" + host }
            return s
        }
    }

    /// IRCv3 message tags (`@time=…;account=bob`), values unescaped; a tag without a value
    /// maps to `""`. Parsed so they never confuse the rest of the parse; the bridge may use
    /// `time` for delayed delivery.
    public var tags: [String: String]
    public var prefix: Prefix?
    /// Upper-cased command word, or a 3-digit numeric (`"001"`).
    public var command: String
    /// All parameters; the trailing one (after ` :`), when there is one, is last.
    public var params: [String]

    public init(tags: [String: String] = [:], prefix: Prefix? = nil, command: String, params: [String] = []) {
        self.tags = tags
        self.prefix = prefix
        self.command = command
        self.params = params
    }

    /// Parses one line; a trailing CR LF (or lone CR or LF) is ignored. `nil` when the line is
    /// empty, has an empty prefix or tag section, or no valid command.
    public init?(line: String) {
        // Parsed on UTF-8 bytes: every delimiter is ASCII, and a Character view would glue a
        // space or `:` to a following combining mark and miss it.
        var bytes = Array(line.utf8)[...]
        while let last = bytes.last, last == 0x0D || last == 0x0A { bytes.removeLast() }
        let space = UInt8(ascii: " ")
        let colon = UInt8(ascii: ":")
        // Servers send single spaces, but tolerating runs of them costs nothing.
        func skipSpaces() { while bytes.first == space { bytes.removeFirst() } }
        func nextWord() -> ArraySlice<UInt8> {
            let end = bytes.firstIndex(of: space) ?? bytes.endIndex
            let word = bytes[..<end]
            bytes = bytes[end...]
            return word
        }
        func text(_ b: ArraySlice<UInt8>) -> String { String(decoding: b, as: UTF8.self) }

        skipSpaces()
        var tags: [String: String] = [:]
        if bytes.first == UInt8(ascii: "@") {
            let raw = nextWord().dropFirst()
            guard !raw.isEmpty else { return nil }
            for item in raw.split(separator: UInt8(ascii: ";")) {
                if let eq = item.firstIndex(of: UInt8(ascii: "=")) {
                    let key = item[..<eq]
                    guard !key.isEmpty else { continue }
                    tags[text(key)] = Self.unescapeTagValue(Substring(text(item[(eq + 1)...])))
                } else {
                    tags[text(item)] = ""
                }
            }
            skipSpaces()
        }

        var prefix: Prefix? = nil
        if bytes.first == colon {
            guard let parsed = Prefix(Substring(text(nextWord().dropFirst()))) else { return nil }
            prefix = parsed
            skipSpaces()
        }

        guard let command = Self.validCommand(Substring(text(nextWord()))) else { return nil }

        var params: [String] = []
        while true {
            skipSpaces()
            if bytes.isEmpty { break }
            if bytes.first == colon {
                params.append(text(bytes.dropFirst()))
                break
            }
            params.append(text(nextWord()))
        }
        self.init(tags: tags, prefix: prefix, command: command, params: params)
    }

    /// Parses one line of raw bytes, decoded with ``IRCTextDecoder`` (UTF-8, else latin-1).
    public init?<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        self.init(line: IRCTextDecoder.decode(bytes))
    }

    /// The numeric reply code (`001` → 1), or `nil` for a command word.
    public var numeric: Int? {
        command.utf8.count == 3 ? Int(command) : nil
    }

    /// The last parameter (usually the text), or `nil` when there are none.
    public var trailing: String? { params.last }

    /// A command word (ASCII letters, upper-cased) or a 3-digit numeric.
    private static func validCommand(_ word: Substring) -> String? {
        let scalars = word.unicodeScalars
        guard !scalars.isEmpty else { return nil }
        if scalars.count == 3, scalars.allSatisfy({ (0x30...0x39).contains($0.value) }) {
            return String(word)
        }
        guard scalars.allSatisfy({ (0x41...0x5A).contains($0.value) || (0x61...0x7A).contains($0.value) }) else {
            return nil
        }
        return word.uppercased()
    }

    /// IRCv3 tag value escapes: `\:` → `;`, `\s` → space, `\\` → `\`, `\r`, `\n`; any other
    /// escaped character stands for itself and a lone trailing `\` is dropped.
    static func unescapeTagValue(_ value: Substring) -> String {
        var out = ""
        var escaping = false
        for ch in value {
            if escaping {
                switch ch {
                case ":": out.append(";")
                case "s": out.append(" ")
                case "r": out.append("\r")
                case "n": out.append("\n")
                default: out.append(ch)
                }
                escaping = false
            } else if ch == "\\" {
                escaping = true
            } else {
                out.append(ch)
            }
        }
        return out
    }
}
