/// Why an outgoing IRC line was refused. Nothing is sent when one is thrown: a line that would
/// need fixing is never "repaired" into a different command.
public enum IRCLineError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The command word is not letters (or a 3-digit numeric).
    case invalidVerb(String)
    /// A middle parameter (target, channel, nick, mode…) is empty, starts with `:`, or holds
    /// a space, CR, LF, NUL — or a comma where the command would read it as a list.
    case invalidParameter(String, reason: String)
    /// The trailing parameter holds CR, LF or NUL. Split text into lines first
    /// (``IRCLineSplitter`` does).
    case invalidTrailing(reason: String)
    /// The line would be longer than 512 bytes, or the target alone leaves no room for text.
    case lineTooLong(bytes: Int)
    /// More than 15 parameters (RFC 2812).
    case tooManyParameters(Int)

    /// A sentence for a log line or a stanza error.
    public var description: String {
        switch self {
        case .invalidVerb(let verb):
            "“\(IRCAddressError.printable(verb))” is not an IRC command"
        case .invalidParameter(let param, let reason):
            "the IRC parameter “\(IRCAddressError.printable(param))” is refused: \(reason)"
        case .invalidTrailing(let reason):
            "the IRC text is refused: \(reason)"
        case .lineTooLong(let bytes):
            "the IRC line would be \(bytes) bytes, more than the 512 IRC allows"
        case .tooManyParameters(let count):
            "\(count) parameters are more than the 15 IRC allows"
        }
    }
}
