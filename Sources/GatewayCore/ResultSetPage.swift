import XMPPCore

/// XEP-0059 result set management over an ordered list of ids: which slice a request asks for
/// (`max`, `after`, `before`, `index`) and the `<set/>` describing the answer.
struct ResultSetPage {
    /// The slice of the list to return.
    let range: Range<Int>
    /// The answer's `<set/>`, or nil when the request had none and everything fits.
    let element: XMLElement?

    /// Pages answer at most this many items, whatever `max` says.
    static let largestPage = 250

    init(request: XMLElement?, ids: [String], defaultMax: Int = largestPage) {
        let count = ids.count
        let asked = request?.childText("max").flatMap(Int.init).map { max(0, $0) } ?? defaultMax
        let limit = min(asked, Self.largestPage)
        let range: Range<Int>
        if let after = request?.childText("after") {
            // An unknown id: nothing after it that we know of.
            let start = ids.firstIndex(of: after).map { $0 + 1 } ?? count
            range = start..<min(count, start + limit)
        } else if let before = request?.child("before") {
            // `<before/>` empty: the last page; with an id: the page before it.
            let end = before.text.isEmpty ? count : (ids.firstIndex(of: before.text) ?? count)
            range = max(0, end - limit)..<end
        } else if let index = request?.childText("index").flatMap(Int.init) {
            let start = min(max(0, index), count)
            range = start..<min(count, start + limit)
        } else {
            range = 0..<min(count, limit)
        }
        self.range = range
        guard request != nil || count > limit else {
            element = nil
            return
        }
        var set = XMLElement("set", namespace: Namespace.rsm)
        if !range.isEmpty {
            set.append(XMLElement("first", ["index": String(range.lowerBound)], children: [.text(ids[range.lowerBound])]))
            set.append(.text("last", ids[range.upperBound - 1]))
        }
        set.append(.text("count", String(count)))
        element = set
    }
}
