import GatewayCore
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

    /// Queues each element on its lane (``lane(of:)``), in order. Returns the lanes that were
    /// idle, each with its elements from `elements`: the caller starts a drainer for each with
    /// ``drain(_:startingWith:handle:)``.
    func enqueue(_ elements: [XMLElement]) -> [(lane: String, first: [XMLElement])] {
        // Most reads carry one stanza: no grouping to do.
        if elements.count == 1 {
            let lane = Self.lane(of: elements[0])
            let idle = waiting.withLock { Self.claim(lane, for: elements, in: &$0) }
            return idle ? [(lane, elements)] : []
        }
        var grouped: [(lane: String, first: [XMLElement])] = []
        var indexOfLane: [String: Int] = [:]
        for element in elements {
            let lane = Self.lane(of: element)
            if let index = indexOfLane[lane] {
                grouped[index].first.append(element)
            } else {
                indexOfLane[lane] = grouped.count
                grouped.append((lane, [element]))
            }
        }
        return waiting.withLock { lanes in
            grouped.filter { Self.claim($0.lane, for: $0.first, in: &lanes) }
        }
    }

    /// Whether nothing of `element`'s lane is being handled or waits: it may be handled at once.
    /// With no lane busy, the steady state, it does not matter whose lane it is, and working that
    /// out is a lower-cased copy of the sender's address per stanza.
    func isIdle(laneOf element: XMLElement) -> Bool {
        waiting.withLock { $0.isEmpty || $0[Self.lane(of: element)] == nil }
    }

    /// Marks an idle `lane` busy and returns true (its caller drains `elements`), or queues
    /// `elements` behind the lane's drainer and returns false.
    private static func claim(_ lane: String, for elements: [XMLElement], in lanes: inout [String: [XMLElement]]) -> Bool {
        if lanes[lane] != nil {
            lanes[lane]!.append(contentsOf: elements)
            return false
        }
        lanes[lane] = []
        return true
    }

    /// Handles `first`, then whatever arrived on the lane meanwhile, until the lane is empty.
    /// What arrived together is one ``OutputBatch``: its output leaves together.
    /// `handle` gets each batch whole. Both run where the caller runs (the gateway's executor, in
    /// the daemon), so draining costs no hop.
    nonisolated(nonsending) func drain(
        _ lane: String, startingWith first: [XMLElement], handle: nonisolated(nonsending) ([XMLElement]) async -> Void
    ) async {
        var batch = first
        while !batch.isEmpty {
            await OutputBatch.handling(batch.count) { await handle(batch) }
            batch = waiting.withLock { lanes in
                let next = lanes[lane] ?? []
                if next.isEmpty {
                    lanes.removeValueReleasingEmptyStorage(forKey: lane)
                } else {
                    lanes[lane] = []
                }
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
