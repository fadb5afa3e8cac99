import XMPPCore

/// Where the gateway core puts stanzas for the XMPP server: one component link's outbound queue.
/// The core never sees sockets; the daemon hands it the link behind this.
public protocol StanzaSender: Sendable {
    /// Queues a stanza; false when it cannot be taken (the queue is full).
    @discardableResult
    func send(_ element: XMLElement) -> Bool
}
