/// The last few results of a pure function, by input: for parsing what a stanza stream
/// repeats. A conversation's messages carry the same `from` and `to` one after another, and
/// parsing and normalizing those addresses again for every message was a tenth of the CPU an
/// XMPP→IRC message costs. A handful of entries compared in turn cost less than hashing the
/// input for a dictionary.
package struct RecentResults<Input: Equatable, Output> {
    // Inlinable, so each user specializes it: unspecialized, every lookup asked the runtime for
    // the metadata of its entry tuple.
    @usableFromInline var entries: [(input: Input, output: Output)] = []
    @usableFromInline var next = 0
    @usableFromInline let size: Int

    @inlinable
    package init(size: Int = 4) {
        precondition(size > 0, "at least one entry")
        self.size = size
        entries.reserveCapacity(size)
    }

    /// `compute(input)`, from memory when it was among the last `size` inputs computed.
    /// Failures are not remembered.
    @inlinable
    package mutating func value<Failure: Error>(for input: Input, _ compute: (Input) throws(Failure) -> Output) throws(Failure) -> Output {
        for entry in entries where entry.input == input { return entry.output }
        let output = try compute(input)
        if entries.count < size {
            entries.append((input, output))
        } else {
            entries[next] = (input, output)
            next = (next + 1) % size
        }
        return output
    }
}
