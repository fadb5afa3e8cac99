/// A CTCP message: text framed by `\u{01}` inside a PRIVMSG (a request, or an action) or a
/// NOTICE (a reply).
///
/// The bridge turns `ACTION` into an XEP-0245 `/me` body, answers or ignores requests such as
/// `VERSION` and `PING`, and never shows the raw framing to an XMPP user.
public enum CTCPMessage: Hashable, Sendable {
    /// `\u{01}ACTION waves\u{01}` — "/me waves".
    case action(String)
    /// Any other CTCP: the command upper-cased (`VERSION`, `PING`, `TIME`…) and the rest of the
    /// text after the first space (empty when there is none).
    case request(command: String, arguments: String)

    /// The CTCP in `text`, or `nil` when it is plain text.
    ///
    /// The closing `\u{01}` is optional: several clients leave it out, and a long action cut by
    /// the server loses it. An empty command (`\u{01}\u{01}`) is not a CTCP.
    public static func parse(_ text: String) -> CTCPMessage? {
        guard text.unicodeScalars.first == "\u{01}" else { return nil }
        var inner = text.unicodeScalars.dropFirst()
        if inner.last == "\u{01}" { inner = inner.dropLast() }
        let command: Substring.UnicodeScalarView
        let arguments: Substring.UnicodeScalarView
        if let space = inner.firstIndex(of: " ") {
            command = inner[..<space]
            arguments = inner[inner.index(after: space)...]
        } else {
            command = inner
            arguments = inner[inner.endIndex...]
        }
        guard !command.isEmpty else { return nil }
        let name = String(String.UnicodeScalarView(command)).uppercased()
        let args = String(String.UnicodeScalarView(arguments))
        return name == "ACTION" ? .action(args) : .request(command: name, arguments: args)
    }

    /// The framed text to put in a PRIVMSG (or, for a reply, a NOTICE). Callers sending user
    /// text should use ``IRCLineSplitter`` instead, which also splits and sanitises it.
    public var framed: String {
        switch self {
        case .action(let text): "\u{01}ACTION \(text)\u{01}"
        case .request(let command, let arguments):
            arguments.isEmpty ? "\u{01}\(command)\u{01}" : "\u{01}\(command) \(arguments)\u{01}"
        }
    }
}
