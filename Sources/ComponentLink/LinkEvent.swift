import XMPPCore

/// What a component link reports to the gateway, in the order it happened.
public enum LinkEvent: Sendable, Hashable {
    /// The handshake succeeded; waiting stanzas are being flushed.
    case established
    /// A stanza from the server for this component.
    case stanza(XMLElement)
    /// The link is down; the failure says why, nil for a clean close.
    case down(LinkFailure?)
}
