import Synchronization

/// Something that holds output for a batch and hands it over when the batch ends.
public protocol HeldOutput: AnyObject, Sendable {
    /// Hands over everything held, in order. Called once per release of a batch that holds
    /// this output (``OutputBatch/hold(_:)`` returned true since the last release), however
    /// many times it was held in between.
    func releaseHeld()
}

/// The output of one batch of inbound stanzas, held until the whole batch has been handled.
///
/// While a lane handles several stanzas that arrived together, the lines a bridge writes for
/// them wait here and go to the foreign network's thread in one hand-over: one wake-up and one
/// socket write for the batch instead of one per stanza, as a single-threaded gateway gets by
/// writing a whole read's worth of output at once. A stanza handled alone is not held (there is
/// no batch). Held output waits at most for the rest of the batch's handling, which releases it
/// early before slow waits and every millisecond (see ``release()``).
///
/// The batch is a task-local: code called while it is ``current`` (through any number of actor
/// hops of that task) may hold output in it. Unstructured tasks started meanwhile inherit it,
/// so ``hold(_:)`` refuses once the batch has ended and the caller sends at once.
public final class OutputBatch: Sendable {
    /// The batch of the stanzas being handled, if they came several at a time.
    @TaskLocal public static var current: OutputBatch?

    private struct State {
        var held: [any HeldOutput] = []
        var ended = false
    }

    private let state = Mutex(State())

    public init() {}

    /// Asks the batch to call `output`'s ``HeldOutput/releaseHeld()`` when it ends. False when
    /// the batch has already ended: then nothing will call it and the caller must send now.
    /// An existential, not generic: called from other modules, a generic was left unspecialized.
    public func hold(_ output: any HeldOutput) -> Bool {
        state.withLock { state in
            if state.ended { return false }
            // An output is held once per release: a link's wake is asked for with every stanza.
            // The list is short (the batch's IRC sessions and links), and the last entry is the
            // likely repeat.
            if state.held.last !== output, !state.held.contains(where: { $0 === output }) {
                state.held.append(output)
            }
            return true
        }
    }

    /// Releases every output held so far, in the order it was first held; the batch goes on
    /// holding. For a handler about to wait for something slow (a connection to open), and for
    /// long batches, so nothing already written waits for it.
    public func release() {
        releaseHeld(ending: false)
    }

    /// Ends the batch: releases what it holds and refuses to hold more.
    public func end() {
        releaseHeld(ending: true)
    }

    /// Takes what is held (and, `ending`, closes the batch) under one lock, then releases it.
    private func releaseHeld(ending: Bool) {
        let held = state.withLock { state in
            if ending { state.ended = true }
            defer { state.held = [] }
            return state.held
        }
        for output in held { output.releaseHeld() }
    }

    /// Runs `body` with a batch as ``current`` when `count` stanzas are handled together (more
    /// than one), and releases what it held afterwards; with one stanza, just runs `body`.
    /// `body` runs in the caller's isolation (an actor's handler may pass its own code).
    public static func handling(
        _ count: Int, isolation: isolated (any Actor)? = #isolation, _ body: nonisolated(nonsending) () async -> Void
    ) async {
        guard count > 1 else {
            await body()
            return
        }
        let batch = OutputBatch()
        // Naming `isolation` makes the closure isolated there: without it the closure ran on
        // the global executor, and `body` hopped back from there (perf probes of task switches).
        await $current.withValue(batch, operation: { _ = isolation; await body() }, isolation: isolation)
        batch.end()
    }
}
