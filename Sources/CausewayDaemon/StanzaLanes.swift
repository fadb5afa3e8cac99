import Synchronization
import XMPPCore

/// Orders the handling of inbound stanzas: those of one lane (one user) one after another, in
/// arrival order; different lanes side by side, so a slow foreign network for one user does not
/// hold up the others.
///
/// A lane with work has one drainer, which takes everything waiting at once; an idle lane costs
/// nothing. A burst from one user is one task, not one per stanza.
final class StanzaLanes: Sendable {
    /// The stanzas waiting in each busy lane; a lane is present while its drainer runs.
    private let waiting = Mutex<[String: [XMLElement]]>([:])

    /// Queues `element` on `lane`; returns true when the lane was idle, and the caller must start
    /// a drainer with ``drain(_:startingWith:handle:)``.
    func enqueue(_ element: XMLElement, on lane: String) -> Bool {
        waiting.withLock { lanes in
            if lanes[lane] != nil {
                lanes[lane]!.append(element)
                return false
            }
            lanes[lane] = []
            return true
        }
    }

    /// Handles `first`, then whatever arrived on the lane meanwhile, until the lane is empty.
    func drain(_ lane: String, startingWith first: XMLElement, handle: (XMLElement) async -> Void) async {
        var batch = [first]
        while !batch.isEmpty {
            for element in batch { await handle(element) }
            batch = waiting.withLock { lanes in
                let next = lanes[lane] ?? []
                lanes[lane] = next.isEmpty ? nil : []
                return next
            }
        }
    }

    /// The lane of a stanza: its sender's bare JID as written, lower-cased. Servers send
    /// normalized addresses, so this matches the parsed bare JID without parsing it.
    static func lane(of element: XMLElement) -> String {
        guard let from = element[attribute: "from"] else { return "" }
        guard let slash = from.utf8.firstIndex(of: UInt8(ascii: "/")) else { return from.lowercased() }
        return from[..<slash].lowercased()
    }
}
