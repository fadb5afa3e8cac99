/// Builds the IRC lines the bridge writes, so that nothing from XMPP can become a command of
/// its own.
///
/// IRC is line-based: a CR or LF (ngircd ends a line at a lone CR too) starts a new command,
/// a NUL truncates, a space separates parameters and a comma separates list items. An XMPP body
/// may contain all of them, so:
///
/// - ``lines(_:target:body:)`` splits a body at CR, LF and CRLF into separate messages, removes
///   every other C0 control character (NUL, BEL, the mIRC formatting codes, a user-typed
///   `\u{01}` that would forge CTCP), and cuts each message into chunks so the line *as the
///   server relays it*, prefix included, fits in 512 bytes — longer lines are truncated by
///   servers, and ngircd disconnects a client that sends one.
/// - ``command(_:_:trailing:)`` builds every other command and refuses (throws) rather than
///   repairs a parameter that would change its meaning.
///
/// Lines come back without a prefix (a client never sends one) and end in `\r\n`.
public struct IRCLineSplitter: Sendable, Hashable {
    /// The two commands that carry text to a target.
    public enum Verb: String, Sendable, Hashable {
        case privmsg = "PRIVMSG"
        case notice = "NOTICE"
    }

    /// Longest IRC line, CR LF included (RFC 1459 §2.3).
    public static let maxLineBytes = 512

    /// Bytes of `:nick!user@host` (leading colon included, trailing space not) as the server
    /// will put it in front of our line when relaying it to others.
    public var prefixLength: Int

    /// A splitter for a known prefix length (measure it from the `001`/`396`/`CHGHOST` the
    /// server sent, or from how our own messages come back).
    public init(prefixLength: Int) {
        self.prefixLength = max(0, prefixLength)
    }

    /// A splitter assuming the longest prefix `nick` may get: a 10-byte user name (USERLEN on
    /// most servers) and a 63-byte host (HOSTLEN), since cloaks and reverse DNS are not known
    /// in advance. Costs a few bytes per line, never a truncated message.
    public init(nick: String) {
        self.init(prefixLength: Self.defaultPrefixLength(nick: nick))
    }

    /// `:` + nick + `!` + 10 + `@` + 63.
    public static func defaultPrefixLength(nick: String) -> Int {
        1 + nick.utf8.count + 1 + 10 + 1 + 63
    }

    // MARK: - Text

    /// The lines carrying `body` to `target`.
    ///
    /// A body starting with `/me ` is an action (XEP-0245): every resulting message and every
    /// chunk of it is framed as `\u{01}ACTION …\u{01}` on its own, since a CTCP cannot span
    /// lines. Empty messages (blank lines, lines of only control characters) are dropped, so an
    /// empty body yields no line at all.
    ///
    /// - Throws: ``IRCLineError/invalidParameter(_:reason:)`` for a bad target,
    ///   ``IRCLineError/lineTooLong(bytes:)`` when the target leaves too little room for text.
    ///
    /// `lineEnd` ends each line: CR LF for the wire, nothing for an engine that adds its own.
    public func lines(_ verb: Verb = .privmsg, target: String, body: String, lineEnd: String = "\r\n") throws(IRCLineError) -> [String] {
        try Self.validateTarget(target)
        var text = Substring(body)
        var isAction = false
        if body.utf8.starts(with: "/me ".utf8) {
            isAction = true
            text = Substring(body.utf8.dropFirst(4))
        }
        // `VERB target :`
        let headBytes = verb.rawValue.utf8.count + 1 + target.utf8.count + 2
        let framing = isAction ? Self.actionOpen.utf8.count + 1 : 0
        // Our line as relayed: prefix, space, head, text, CR LF.
        let overhead = prefixLength + 1 + headBytes + framing + 2
        let budget = Self.maxLineBytes - overhead
        // 4 bytes is the least that always fits one Unicode scalar; with less we could not
        // make progress (and a target that long is nonsense anyway).
        guard budget >= 4 else { throw .lineTooLong(bytes: overhead + 4) }

        // Most bodies are one short line of plain text: one string, built once.
        if !isAction, !text.isEmpty, text.utf8.count <= budget, !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            var line = String()
            line.reserveCapacity(headBytes + text.utf8.count + lineEnd.utf8.count)
            line += verb.rawValue
            line += " "
            line += target
            line += " :"
            // The Substring overload: `+=` with a Substring is the generic Sequence one, left
            // unspecialized, a character at a time.
            line.append(contentsOf: text)
            line += lineEnd
            return [line]
        }

        let head = verb.rawValue + " " + target + " :"
        var result: [String] = []
        for message in Self.messages(in: text) {
            for chunk in Self.chunks(of: message, maxBytes: budget) {
                result.append(head + (isAction ? Self.actionOpen + chunk + "\u{01}" : chunk) + lineEnd)
            }
        }
        return result
    }

    /// `text` split at CR, LF and CRLF into messages, with every C0 control character and DEL
    /// removed from each, and empty messages dropped. TAB becomes a space (its only sensible
    /// meaning in a chat line). The mIRC formatting codes are controls too: XMPP text never
    /// means them, so they are never sent.
    public static func messages<S: StringProtocol>(in text: S) -> [String] {
        // Most bodies are one line of plain text: nothing to split or remove.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            return text.isEmpty ? [] : [String(text)]
        }
        var result: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A, 0x0D:
                // CRLF gives an empty message between CR and LF, dropped below like any blank line.
                if !current.isEmpty { result.append(String(current)) }
                current = String.UnicodeScalarView()
            case 0x09:
                current.append(" ")
            case 0x00..<0x20, 0x7F:
                continue
            default:
                current.append(scalar)
            }
        }
        if !current.isEmpty { result.append(String(current)) }
        return result
    }

    /// `message` cut into pieces of at most `maxBytes` UTF-8 bytes.
    ///
    /// Cuts fall between grapheme clusters (a flag or an accented letter stays whole); only a
    /// single cluster longer than `maxBytes` is cut between its scalars — never inside one.
    /// When the piece has a space in its last quarter the cut goes right after that space, so
    /// words stay whole; the space stays at the end of the earlier piece, so the pieces joined
    /// give back `message` exactly.
    public static func chunks(of message: String, maxBytes: Int) -> [String] {
        precondition(maxBytes >= 4, "a chunk must hold at least one Unicode scalar")
        if message.utf8.count <= maxBytes { return message.isEmpty ? [] : [message] }

        // Units that may not be cut: grapheme clusters, or the scalars of an oversized one.
        var units: [(text: Substring, bytes: Int, isSpace: Bool)] = []
        for index in message.indices {
            let cluster = message[index...index]
            let bytes = cluster.utf8.count
            if bytes <= maxBytes {
                units.append((cluster, bytes, cluster == " "))
            } else {
                let scalars = cluster.unicodeScalars
                var s = scalars.startIndex
                while s != scalars.endIndex {
                    let next = scalars.index(after: s)
                    units.append((Substring(scalars[s..<next]), scalars[s].utf8.count, false))
                    s = next
                }
            }
        }

        var result: [String] = []
        var start = 0
        while start < units.count {
            var end = start
            var bytes = 0
            var lastSpaceEnd: (unit: Int, bytes: Int)? = nil
            while end < units.count, bytes + units[end].bytes <= maxBytes {
                bytes += units[end].bytes
                if units[end].isSpace { lastSpaceEnd = (end + 1, bytes) }
                end += 1
            }
            if end < units.count, let space = lastSpaceEnd, space.bytes * 4 >= bytes * 3 {
                end = space.unit
            }
            var chunk = ""
            for unit in units[start..<end] { chunk += unit.text }
            result.append(chunk)
            start = end
        }
        return result
    }

    // MARK: - Other commands

    /// One command line, `VERB p1 p2 :trailing\r\n`, for JOIN, PART, TOPIC, KICK, NICK, MODE,
    /// INVITE, WHOIS, MONITOR, ISON, QUIT…
    ///
    /// Refuses rather than repairs:
    /// - a verb that is not ASCII letters or a 3-digit numeric;
    /// - a middle parameter that is empty, starts with `:`, or contains a space, CR, LF or NUL;
    /// - a comma in a middle parameter, except for `MODE` and `MONITOR` whose parameters are
    ///   lists by design — so `JOIN #a,#b`, `KICK #c a,b` or `PART #a,#b` can never act on a
    ///   second channel or nick the user did not name;
    /// - CR, LF or NUL in `trailing`. Text that may hold line breaks (a topic, a kick or quit
    ///   reason) is the caller's to split or join first — silently joining lines would change
    ///   what the user wrote, and one command can carry only one line;
    /// - a line longer than 512 bytes.
    ///
    /// `trailing` may be empty (`TOPIC #c :` clears a topic) and may contain spaces.
    public static func command(_ verb: String, _ params: [String], trailing: String?) throws(IRCLineError) -> String {
        let verb = try validateVerb(verb)
        let allowsLists = verb == "MODE" || verb == "MONITOR"
        let count = params.count + (trailing == nil ? 0 : 1)
        guard count <= 15 else { throw .tooManyParameters(count) }

        var line = verb
        for param in params {
            try validateMiddle(param, allowComma: allowsLists)
            line += " " + param
        }
        if let trailing {
            for scalar in trailing.unicodeScalars {
                switch scalar.value {
                case 0x0D: throw .invalidTrailing(reason: "it contains a carriage return")
                case 0x0A: throw .invalidTrailing(reason: "it contains a line feed")
                case 0x00: throw .invalidTrailing(reason: "it contains a NUL character")
                default: continue
                }
            }
            line += " :" + trailing
        }
        line += "\r\n"
        guard line.utf8.count <= maxLineBytes else { throw .lineTooLong(bytes: line.utf8.count) }
        return line
    }

    /// Checks a line a user typed as a raw IRC command (to the server JID, or as a command to
    /// send after connecting): one line, a command word first, no control character, under the
    /// 512-byte limit. Returns it without a line end; a leading `/` is dropped, as clients type it.
    public static func rawCommand(_ text: String) throws(IRCLineError) -> String {
        var line = text.trimmingASCIISpaces()
        if line.hasPrefix("/") { line.removeFirst() }
        // IRC formatting codes and CTCP's \u{01} are text; every other control is refused.
        let formatting: Set<UInt32> = [0x01, 0x02, 0x03, 0x0F, 0x16, 0x1D, 0x1F]
        for scalar in line.unicodeScalars where (scalar.value < 0x20 && !formatting.contains(scalar.value)) || scalar.value == 0x7F {
            throw .invalidTrailing(reason: "it contains the control character U+" + String(scalar.value, radix: 16, uppercase: true))
        }
        let verb = String(line.prefix { $0 != " " })
        _ = try validateVerb(verb)
        guard line.utf8.count + 2 <= maxLineBytes else { throw .lineTooLong(bytes: line.utf8.count + 2) }
        return line
    }

    /// Checks a PRIVMSG/NOTICE target: one nick or channel, nothing that would split it or
    /// address a second one.
    public static func validateTarget(_ target: String) throws(IRCLineError) {
        try validateMiddle(target, allowComma: false)
    }

    // MARK: - Helpers

    static let actionOpen = "\u{01}ACTION "

    private static func validateVerb(_ verb: String) throws(IRCLineError) -> String {
        let scalars = verb.unicodeScalars
        let isNumeric = scalars.count == 3 && scalars.allSatisfy { (0x30...0x39).contains($0.value) }
        let isWord = !scalars.isEmpty && scalars.allSatisfy {
            (0x41...0x5A).contains($0.value) || (0x61...0x7A).contains($0.value)
        }
        guard isNumeric || isWord else { throw .invalidVerb(verb) }
        return verb.uppercased()
    }

    private static func validateMiddle(_ param: String, allowComma: Bool) throws(IRCLineError) {
        guard !param.isEmpty else { throw .invalidParameter(param, reason: "it is empty") }
        // Bytes, not Characters: `:` followed by a combining mark is one Character.
        if param.utf8.first == UInt8(ascii: ":") { throw .invalidParameter(param, reason: "it starts with “:”") }
        for scalar in param.unicodeScalars {
            switch scalar.value {
            case 0x20, 0x0D, 0x0A, 0x00:
                throw .invalidParameter(param, reason: "it contains " + IRCAddressError.describe(scalar))
            case 0x2C where !allowComma:
                throw .invalidParameter(param, reason: "it contains a comma, which would name a second target")
            default:
                continue
            }
        }
    }
}

extension String {
    func trimmingASCIISpaces() -> String {
        var scalars = Substring(self)
        while scalars.first == " " || scalars.first == "\t" { scalars.removeFirst() }
        while scalars.last == " " || scalars.last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
