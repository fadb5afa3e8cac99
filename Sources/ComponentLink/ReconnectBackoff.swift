/// Delays between reconnection attempts: exponential growth from `initial` to `maximum`, with
/// "equal jitter" (half the delay fixed, half random) so that many links dropped at the same
/// moment do not come back in lock-step, yet none retries immediately.
public struct ReconnectBackoff: Sendable {
    public let initial: Duration
    public let maximum: Duration
    private var attempt = 0

    public init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(30)) {
        precondition(initial > .zero && maximum >= initial, "backoff bounds must be positive and ordered")
        self.initial = initial
        self.maximum = maximum
    }

    /// The delay before the next attempt; each call grows the next one.
    public mutating func nextDelay<Generator: RandomNumberGenerator>(using generator: inout Generator) -> Duration {
        let ceiling = ceiling(forAttempt: attempt)
        attempt += 1
        let half = ceiling / 2
        let jitter = Double.random(in: 0...1, using: &generator)
        return half + half * jitter
    }

    public mutating func nextDelay() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return nextDelay(using: &generator)
    }

    /// After a connection that worked, start again from the shortest delay.
    public mutating func reset() {
        attempt = 0
    }

    /// The upper bound of the delay for attempt `n` (0-based): initial × 2ⁿ, capped.
    public func ceiling(forAttempt attempt: Int) -> Duration {
        var delay = initial
        for _ in 0..<min(attempt, 62) {
            delay = delay * 2
            if delay >= maximum { return maximum }
        }
        return min(delay, maximum)
    }
}
