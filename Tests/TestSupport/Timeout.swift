// Bounded waits for tests: every wait for an event has a limit and names what it waited for.

/// A bounded wait ran out.
public struct TestTimeout: Error, CustomStringConvertible {
    public var what: String
    public var seconds: Double
    public var description: String { "timed out after \(seconds) s waiting for \(what)" }
}

/// Runs `body`, giving up with ``TestTimeout`` after `seconds`; `body` must honour cancellation.
public func withTimeout<T: Sendable>(
    _ seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw TestTimeout(what: what, seconds: seconds)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// The first value of `stream`, within `seconds`.
public func firstValue<T: Sendable>(of stream: AsyncStream<T>, within seconds: Double = 10, _ what: String) async throws -> T {
    try await withTimeout(seconds, what) {
        for await value in stream { return value }
        throw TestTimeout(what: "\(what) (the stream ended)", seconds: seconds)
    }
}
