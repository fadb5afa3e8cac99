#if canImport(FoundationEssentials)
import FoundationEssentials  // not Foundation: its ICU clashes with libxml2's in modules that see CLibXML2
#else
import Foundation
#endif

/// One message of a room as a user saw it, kept for history on join and MAM.
public struct ArchivedMessage: Sendable, Hashable {
    public var bridge: String
    public var user: String
    public var room: String
    /// The XEP-0359 stanza-id it was delivered with.
    public var stanzaID: String
    public var nick: String
    public var body: String
    public var at: Date

    public init(bridge: String, user: String, room: String, stanzaID: String, nick: String, body: String, at: Date) {
        self.bridge = bridge
        self.user = user
        self.room = room
        self.stanzaID = stanzaID
        self.nick = nick
        self.body = body
        self.at = at
    }
}

/// A MAM query against one user's archive of one room.
public struct ArchiveQuery: Sendable, Hashable {
    public var start: Date?
    public var end: Date?
    /// Page after or before this stanza-id (RSM); `before` with an empty id is the last page.
    public var after: String?
    public var before: String?
    public var limit: Int

    public init(start: Date? = nil, end: Date? = nil, after: String? = nil, before: String? = nil, limit: Int) {
        self.start = start
        self.end = end
        self.after = after
        self.before = before
        self.limit = limit
    }
}

/// A page of archived messages, oldest first.
public struct ArchivePage: Sendable, Hashable {
    public var messages: [ArchivedMessage]
    /// Whether the page reaches the end of the query in the direction it was paged.
    public var complete: Bool
    /// Messages matching the query's time range.
    public var count: Int
}
