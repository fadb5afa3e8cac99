#if canImport(FoundationEssentials)
import FoundationEssentials  // not Foundation: its ICU clashes with libxml2's in modules that see CLibXML2
#else
import Foundation
#endif

/// A stanza waiting for its component link to come back, in delivery order.
public struct PendingStanza: Sendable, Hashable {
    /// Increases with every enqueue and is never reused: delivery order.
    public var id: Int64
    /// The bridge domain whose link should carry it.
    public var bridge: String
    /// The recipient's bare JID.
    public var recipient: String
    /// The serialized stanza.
    public var stanza: String
    public var createdAt: Date

    public init(id: Int64, bridge: String, recipient: String, stanza: String, createdAt: Date) {
        self.id = id
        self.bridge = bridge
        self.recipient = recipient
        self.stanza = stanza
        self.createdAt = createdAt
    }
}
