/// What the stream parser yields, in order: the stream header once, then each top-level child
/// as one complete element, then the end of the stream — or a failure, after which the parser
/// yields nothing more.
public enum XMLStreamEvent: Sendable, Hashable {
    /// The opening `<stream:stream>` tag, as an element with its attributes and no children.
    case streamOpened(XMLElement)
    /// One complete top-level child of the stream: a stanza, `<handshake/>`, `<stream:error>`…
    case element(XMLElement)
    /// `</stream:stream>`.
    case streamClosed
    /// The peer broke the rules; the stream must be closed with this error.
    case failed(StreamError)
}
