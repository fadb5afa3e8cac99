/// Ids added in increasing order and mostly removed oldest first: the stanzas a link has sent
/// and the server has not acknowledged yet (acknowledgements come in send order).
///
/// Replaces a `Set<Int64>`, whose removals rehash a cluster of neighbours each: with thousands of
/// stanzas in flight they were 6% of the gateway's CPU in an IRC→XMPP burst. Here the usual
/// removal is an index step; any other is a binary search.
struct AscendingIDs {
    private var ids: [Int64] = []
    private var head = 0

    var count: Int { ids.count - head }
    var isEmpty: Bool { head == ids.count }

    /// Adds `id`; cheapest when it is greater than every id held (the only way the outbox adds).
    mutating func append(_ id: Int64) {
        guard let last = ids.last, id <= last else {
            ids.append(id)
            return
        }
        let index = firstIndex(notBelow: id, from: head)
        if index == ids.count || ids[index] != id { ids.insert(id, at: index) }
    }

    /// Removes `id` if present.
    mutating func remove(_ id: Int64) {
        guard head < ids.count else { return }
        if ids[head] == id {
            head += 1
            if head == ids.count {
                ids.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024 && head * 2 >= ids.count {
                ids.removeFirst(head)
                head = 0
            }
            return
        }
        let index = firstIndex(notBelow: id, from: head + 1)
        if index < ids.count && ids[index] == id { ids.remove(at: index) }
    }

    /// Binary search in `start..<ids.count`.
    private func firstIndex(notBelow id: Int64, from start: Int) -> Int {
        var low = start, high = ids.count
        while low < high {
            let middle = (low + high) / 2
            if ids[middle] < id { low = middle + 1 } else { high = middle }
        }
        return low
    }

    mutating func removeAll() {
        ids.removeAll(keepingCapacity: true)
        head = 0
    }
}
