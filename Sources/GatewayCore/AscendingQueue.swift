import XMPPCore

/// What an ``AscendingQueue`` holds: its place is its sequence number.
protocol Sequenced {
    var sequence: Int64 { get }
}

extension Int64: Sequenced {
    var sequence: Int64 { self }
}

/// Elements added in increasing sequence order and mostly removed oldest first: what a link has
/// sent and the server has not acknowledged yet (acknowledgements come in send order).
///
/// Replaces a `Set<Int64>`, whose removals rehash a cluster of neighbours each: with thousands of
/// stanzas in flight they were 6% of the gateway's CPU in an IRC→XMPP burst. Here the usual
/// removal is an index step; any other is a binary search.
struct AscendingQueue<Element: Sequenced> {
    private var elements: [Element] = []
    private var head = 0

    var count: Int { elements.count - head }
    var isEmpty: Bool { head == elements.count }

    /// Adds `element` unless one with its sequence number is held; cheapest when its number is
    /// greater than every one held (the only way the outbox adds).
    mutating func append(_ element: Element) {
        guard let last = elements.last, element.sequence <= last.sequence else {
            elements.append(element)
            return
        }
        let index = firstIndex(notBelow: element.sequence, from: head)
        if index == elements.count || elements[index].sequence != element.sequence { elements.insert(element, at: index) }
    }

    /// Removes the element with `sequence`; false when none is held.
    @discardableResult
    mutating func remove(_ sequence: Int64) -> Bool {
        guard head < elements.count else { return false }
        if elements[head].sequence == sequence {
            head += 1
            if head == elements.count {
                elements.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024 && head * 2 >= elements.count {
                elements.removeFirst(head)
                head = 0
            }
            return true
        }
        let index = firstIndex(notBelow: sequence, from: head + 1)
        guard index < elements.count, elements[index].sequence == sequence else { return false }
        elements.remove(at: index)
        return true
    }

    /// Takes every element, oldest first.
    @discardableResult
    mutating func removeAll() -> [Element] {
        let taken = Array(elements[head...])
        elements.removeAll(keepingCapacity: true)
        head = 0
        return taken
    }

    /// Binary search in `start..<elements.count`.
    private func firstIndex(notBelow sequence: Int64, from start: Int) -> Int {
        var low = start, high = elements.count
        while low < high {
            let middle = (low + high) / 2
            if elements[middle].sequence < sequence { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// Stored stanzas' ids sent on the current link, not acknowledged yet.
typealias AscendingIDs = AscendingQueue<Int64>

/// A stanza sent straight from memory, not acknowledged yet, under an increasing sequence number.
struct InFlightStanza: Sequenced {
    var sequence: Int64
    var element: XMLElement
    var recipient: String
}
