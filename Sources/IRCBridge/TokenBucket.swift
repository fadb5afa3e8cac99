/// The outgoing throttle for one IRC connection: how long to wait before the next line.
///
/// IRC servers punish a client that sends too fast. Solanum (Libera.Chat) and hybrid (OFTC)
/// let a few lines through at once and then allow roughly one per second, queueing or dropping
/// the rest, and disconnect with "Excess Flood" when the queue overflows; ngircd charges each
/// line a penalty (about 3 lines/s by default). Because one XMPP message can become many IRC
/// lines (long or multi-line bodies), the bridge must pace itself, exactly like a client does.
///
/// The default, ``publicNetwork``, is irssi's long-standing one (5 lines at once, then one
/// every ~2 s; WeeChat uses 2 s too): comfortably under every public network's limit, fast
/// enough for conversation. biboumi paces at 10 then 1/s. Use ``unlimited`` only against a
/// server configured without flood control (tests, benchmarks with ngircd's
/// `MaxPenaltyTime = 0`).
///
/// A pure value — the caller passes the time — implemented as GCRA (the "virtual scheduling"
/// form of a token bucket) on `Duration`s, so it is exact and needs no floating point state.
public struct TokenBucket: Sendable, Hashable {
    /// Lines that may be sent back to back after a quiet period.
    public let capacity: Int
    /// Lines per second regained.
    public let refillPerSecond: Double

    /// Time to regain one line; `.zero` when unlimited.
    private let interval: Duration
    /// When the bucket would next be "empty" in the virtual schedule: each line sent pushes it
    /// one interval later; a line may go as long as it is no more than capacity-1 intervals
    /// ahead of now.
    private var theoreticalArrival: ContinuousClock.Instant?

    /// - Parameters:
    ///   - capacity: burst size, at least 1.
    ///   - refillPerSecond: sustained rate; `0` or less, or infinity, means no limit.
    public init(capacity: Int, refillPerSecond: Double) {
        self.capacity = max(1, capacity)
        self.refillPerSecond = refillPerSecond
        if refillPerSecond > 0, refillPerSecond.isFinite {
            self.interval = .seconds(1 / refillPerSecond)
        } else {
            self.interval = .zero
        }
    }

    /// Burst 5, then one line every 2 seconds: safe on Libera.Chat, OFTC and other public networks.
    public static var publicNetwork: TokenBucket { TokenBucket(capacity: 5, refillPerSecond: 0.5) }

    /// Never waits. For servers without flood control (tests, benchmarks).
    public static var unlimited: TokenBucket { TokenBucket(capacity: 1, refillPerSecond: .infinity) }

    /// Whether this bucket never waits.
    public var isUnlimited: Bool { interval == .zero }

    /// Takes one line's worth at `now`.
    ///
    /// Returns `nil` when the line may be sent now (and counts it), or how long to wait — then
    /// nothing is counted, and calling again once that time has passed returns `nil`.
    /// Times must not go backwards; an earlier `now` is treated as the latest time seen.
    public mutating func take(now: ContinuousClock.Instant) -> Duration? {
        if isUnlimited { return nil }
        let tat = max(theoreticalArrival ?? now, now)
        let tolerance = interval * (capacity - 1)
        let ahead = tat - now
        if ahead > tolerance {
            return ahead - tolerance
        }
        theoreticalArrival = tat + interval
        return nil
    }
}
