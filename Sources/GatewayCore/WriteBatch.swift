import Synchronization

/// Rows on their way to the store in batches: appended from anywhere without a hop to the
/// writer, written when ``size`` wait or ``delay`` after the first of a batch, whichever comes
/// first. For rows where a transaction each would cost more than the row itself (room history,
/// sent-message ids).
final class WriteBatch<Row: Sendable>: Sendable {
    let size: Int
    let delay: Duration

    private let waiting = Mutex<(rows: [Row], flushDue: Bool)>(([], false))

    init(size: Int = 512, delay: Duration = .milliseconds(20)) {
        self.size = size
        self.delay = delay
    }

    /// Queues a row and, when this row makes a write due, starts `flush` (at once for a full
    /// batch, after ``delay`` otherwise). `flush` writes what ``take()`` returns.
    func append(_ row: Row, flush: @escaping @Sendable () async -> Void) {
        let (size, delay) = (self.size, self.delay)
        let full: Bool? = waiting.withLock { waiting in
            waiting.rows.append(row)
            if waiting.rows.count >= size { return true }
            if waiting.flushDue { return nil }
            waiting.flushDue = true
            return false
        }
        switch full {
        case true?:
            Task { await flush() }
        case false?:
            Task {
                try? await Task.sleep(for: delay)
                await flush()
            }
        case nil:
            break
        }
    }

    /// Everything waiting, oldest first; the next append starts a new batch.
    func take() -> [Row] {
        waiting.withLock { waiting in
            waiting.flushDue = false
            // Handing the buffer over costs nothing; keeping its capacity would allocate anew.
            defer { waiting.rows = [] }
            return waiting.rows
        }
    }
}
