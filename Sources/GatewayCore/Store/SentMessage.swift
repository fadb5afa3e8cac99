#if canImport(FoundationEssentials)
import FoundationEssentials  // not Foundation: its ICU clashes with libxml2's in modules that see CLibXML2
#else
import Foundation
#endif

/// A message a user sent through a bridge, remembered so that the foreign network's later
/// delivery report can answer the original XMPP message (an XEP-0184 receipt or an error).
public struct SentMessage: Sendable, Hashable {
    /// The bridge domain.
    public var bridge: String
    /// The sender's bare JID.
    public var user: String
    /// The `id` of the user's XMPP message.
    public var xmppID: String
    /// The legacy address the message went to.
    public var peer: String
    /// The foreign network's id for the message.
    public var legacyMessageID: String
    public var createdAt: Date

    public init(bridge: String, user: String, xmppID: String, peer: String, legacyMessageID: String, createdAt: Date) {
        self.bridge = bridge
        self.user = user
        self.xmppID = xmppID
        self.peer = peer
        self.legacyMessageID = legacyMessageID
        self.createdAt = createdAt
    }
}
