import XMPPCore

/// Where the gateway core puts stanzas for the XMPP server: one component link. The core never
/// sees sockets; the daemon hands it the link behind this.
public protocol StanzaSender: Sendable {
    /// Queues a stanza; false when it cannot be taken (the queue is full).
    @discardableResult
    func send(_ element: XMLElement) -> Bool

    /// Sends a stanza now if the link is up, and calls `onAcknowledged` once the server has
    /// processed it. Returns false, sending nothing, when the link is down: the caller keeps the
    /// stanza (in the store) and sends it again once the link is back.
    func sendAcknowledged(_ element: XMLElement, onAcknowledged: @escaping @Sendable () -> Void) -> Bool
}
