import XMPPCore

/// What a component link reports to the gateway, in the order it happened.
public enum LinkEvent: Sendable, Hashable {
    /// The handshake succeeded; waiting stanzas are being flushed.
    case established
    /// Stanzas from the server for this component, in order: those of one read cycle of the
    /// socket (NIO's reads until `channelReadComplete`) together, so the gateway can handle (and
    /// answer) them as a batch.
    case stanzas([XMLElement])
    /// The link is down; the failure says why, nil for a clean close.
    case down(LinkFailure?)
}
