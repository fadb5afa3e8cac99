import XMPPCore

/// Stanzas sent straight from memory and not acknowledged yet, in send order, each under an
/// increasing sequence number. Acknowledgements come in send order, so the usual removal is an
/// index step at the front; any other is a binary search.
struct InFlightStanzas {
    struct Entry {
        var sequence: Int64
        var element: XMLElement
        var recipient: String
    }

    private var entries: [Entry] = []
    private var head = 0

    var count: Int { entries.count - head }
    var isEmpty: Bool { head == entries.count }

    /// Adds an entry; its sequence number must be greater than every one held.
    mutating func append(_ entry: Entry) {
        assert(entries.last.map { $0.sequence < entry.sequence } ?? true, "in-flight sequence numbers must increase")
        entries.append(entry)
    }

    /// Removes the entry with `sequence`; false when none is held.
    mutating func remove(_ sequence: Int64) -> Bool {
        guard head < entries.count else { return false }
        if entries[head].sequence == sequence {
            head += 1
            if head == entries.count {
                entries.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024 && head * 2 >= entries.count {
                entries.removeFirst(head)
                head = 0
            }
            return true
        }
        var low = head, high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].sequence < sequence { low = middle + 1 } else { high = middle }
        }
        guard low < entries.count, entries[low].sequence == sequence else { return false }
        entries.remove(at: low)
        return true
    }

    /// Takes every entry, oldest first.
    mutating func removeAll() -> [Entry] {
        let taken = Array(entries[head...])
        entries.removeAll(keepingCapacity: true)
        head = 0
        return taken
    }
}
