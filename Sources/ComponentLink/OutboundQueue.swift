import XMPPCore

/// Stanzas waiting for the component link, oldest first.
///
/// When the link is down, plain stanzas wait here, up to a limit, and go out in order once it is
/// back. A full queue refuses new stanzas instead of dropping old ones, so the caller knows and
/// can keep the stanza elsewhere or tell the user.
///
/// While the link is up nothing is refused: a stanza waits here only until the event loop's next
/// drain, and a busy machine can delay that drain by more than `limit` stanzas' worth of a burst
/// (a room's fan-out lost stanzas that way). The limit is for an outage, not for a slow thread.
///
/// Acknowledged stanzas wait here only while the link is up, until the channel's next write:
/// everything queued then goes out together, and a ping written after them acknowledges them
/// (see `ComponentChannelHandler`). They do not count against the limit (their senders keep them stored, so their
/// number is the sender's business), and a lost link drops them, because their senders send them
/// again after reconnecting.
public struct OutboundQueue: Sendable {
    /// One waiting stanza and, for an acknowledged one, what to call once the server has it.
    public struct Entry: Sendable {
        public var element: XMLElement
        public var onAcknowledged: (@Sendable () -> Void)?
    }

    public let limit: Int
    private var entries: [Entry] = []
    private var plainCount = 0
    private var linkIsUp = false

    public init(limit: Int) {
        precondition(limit > 0, "queue limit must be positive")
        self.limit = limit
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    /// Appends a stanza; false when the link is down and the queue already holds `limit` plain
    /// stanzas.
    public mutating func append(_ element: XMLElement) -> Bool {
        guard linkIsUp || plainCount < limit else { return false }
        entries.append(Entry(element: element, onAcknowledged: nil))
        plainCount += 1
        return true
    }

    /// Appends a stanza to be acknowledged; never refused.
    public mutating func appendAcknowledged(_ element: XMLElement, onAcknowledged: @escaping @Sendable () -> Void) {
        entries.append(Entry(element: element, onAcknowledged: onAcknowledged))
    }

    /// Takes every waiting stanza, oldest first.
    public mutating func removeAll() -> [Entry] {
        // Handing the buffer over costs nothing; keeping its capacity would copy it.
        let batch = entries
        entries = []
        plainCount = 0
        return batch
    }

    /// The link is up: everything appended goes out with the next drain.
    public mutating func linkEstablished() {
        linkIsUp = true
    }

    /// The link was lost: acknowledged stanzas go back to their senders (who resend them after
    /// reconnecting); plain ones keep waiting, in order, and new ones count against the limit.
    public mutating func linkLost() {
        linkIsUp = false
        entries.removeAll { $0.onAcknowledged != nil }
    }
}
