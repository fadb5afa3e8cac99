import XMPPCore

/// What a component link writes: framing and stanzas, serialized by ``XMPPStreamEncoder``.
public enum OutboundFrame: Sendable, Hashable {
    /// `<stream:stream xmlns='jabber:component:accept' to='…'>`.
    case streamHeader(to: String)
    /// A stanza or other top-level element, in the component namespace.
    case element(XMLElement)
    /// Several stanzas in order, serialized into one buffer: one pending write for a batch
    /// instead of a buffer and a trip down the pipeline for each stanza.
    case elements([XMLElement])
    /// A single space: keeps NATs and idle timers from closing a quiet link.
    case whitespace
    /// A stream error followed by the stream's end.
    case streamError(StreamError)
    /// `</stream:stream>`.
    case streamEnd
}
