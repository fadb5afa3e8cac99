/// The last few results of a pure function, by input: for parsing what a stanza stream
/// repeats. A conversation's messages carry the same `from` and `to` one after another, and
/// parsing and normalizing those addresses again for every message was a tenth of the CPU an
/// XMPP→IRC message costs. A handful of entries compared in turn cost less than hashing the
/// input for a dictionary.
public struct RecentResults<Input: Equatable, Output> {
    // Inlinable, so each user specializes it: unspecialized, every lookup asked the runtime for
    // the metadata of its entries. Public, not `package`: other modules of the package (the IRC
    // bridge) were given no body to specialize for a `package` one, and ran the generic code.
    // A struct, not a tuple, and looked at in place: a tuple entry was copied whole for each
    // comparison, through the runtime's tuple value witnesses.
    @usableFromInline struct Entry {
        @usableFromInline var input: Input
        @usableFromInline var output: Output

        @inlinable init(input: Input, output: Output) {
            self.input = input
            self.output = output
        }
    }

    @usableFromInline var entries: [Entry] = []
    @usableFromInline var next = 0
    @usableFromInline let size: Int

    @inlinable
    public init(size: Int = 4) {
        precondition(size > 0, "at least one entry")
        self.size = size
        entries.reserveCapacity(size)
    }

    /// `compute(input)`, from memory when it was among the last `size` inputs computed. A
    /// computation that can fail returns a `Result`, remembered like any other output: the
    /// function is pure, so a bad input fails the same way again.
    @inlinable
    public mutating func value(for input: Input, _ compute: (Input) -> Output) -> Output {
        for index in entries.indices where entries[index].input == input { return entries[index].output }
        let output = compute(input)
        if entries.count < size {
            entries.append(Entry(input: input, output: output))
        } else {
            entries[next] = Entry(input: input, output: output)
            next = (next + 1) % size
        }
        return output
    }
}
