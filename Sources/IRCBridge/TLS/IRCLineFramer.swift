// Cuts a byte stream from an IRC server into lines, for the SASL prelude (libircclient frames
// its own input once it is paired). Lines end in CR LF or a bare LF and may arrive split
// across reads in any way; a line longer than the limit is an error rather than unbounded
// buffering. What is left unread can be taken back raw, byte for byte, to hand to libircclient.

struct IRCLineFramer {
    struct LineTooLong: Error, Equatable {
        var limit: Int
    }

    let maxLineLength: Int
    private var buffer: [UInt8] = []
    /// Start of the first unconsumed byte in `buffer`.
    private var start = 0
    /// Where to resume looking for LF (everything in start..<scanned has none).
    private var scanned = 0

    /// - Parameter maxLineLength: the longest line accepted, without its CR LF.
    init(maxLineLength: Int) {
        self.maxLineLength = maxLineLength
    }

    mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if start > 0, start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
            scanned = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete line without its terminator, or `nil` until more bytes arrive. Empty
    /// lines are skipped (servers may pad with them; they mean nothing).
    mutating func nextLine() throws(LineTooLong) -> [UInt8]? {
        while true {
            guard let lf = buffer[scanned...].firstIndex(of: 0x0A) else {
                scanned = buffer.count
                // Allow for the CR that may come just before the LF still to arrive.
                if buffer.count - start > maxLineLength + 1 { throw LineTooLong(limit: maxLineLength) }
                return nil
            }
            var end = lf
            if end > start, buffer[end - 1] == 0x0D { end -= 1 }
            let line = Array(buffer[start..<end])
            start = lf + 1
            scanned = start
            if line.count > maxLineLength { throw LineTooLong(limit: maxLineLength) }
            if !line.isEmpty { return line }
        }
    }

    /// Everything not yet returned as a line, exactly as received; the framer is empty after.
    mutating func takeRemainder() -> [UInt8] {
        let rest = Array(buffer[start...])
        buffer.removeAll()
        start = 0
        scanned = 0
        return rest
    }
}
