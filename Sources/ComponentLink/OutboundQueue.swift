import XMPPCore

/// Stanzas waiting for the component link, oldest first, up to a limit.
///
/// When the link is down, stanzas wait here and go out in order once it is back. A full queue
/// refuses new stanzas instead of dropping old ones, so the caller knows and can keep the
/// stanza elsewhere or tell the user.
public struct OutboundQueue: Sendable {
    public let limit: Int
    private var elements: [XMLElement] = []
    private var head = 0

    public init(limit: Int) {
        precondition(limit > 0, "queue limit must be positive")
        self.limit = limit
    }

    public var count: Int { elements.count - head }
    public var isEmpty: Bool { count == 0 }

    /// Appends a stanza; false when the queue is full.
    public mutating func append(_ element: XMLElement) -> Bool {
        guard count < limit else { return false }
        elements.append(element)
        return true
    }

    /// Puts stanzas that could not be written back at the front, ahead of newer ones.
    public mutating func prepend(_ batch: [XMLElement]) {
        elements.replaceSubrange(0..<head, with: batch)
        head = 0
    }

    /// Takes every waiting stanza, oldest first.
    public mutating func removeAll() -> [XMLElement] {
        let batch = Array(elements[head...])
        elements.removeAll(keepingCapacity: true)
        head = 0
        return batch
    }
}
