/// When each connection that polls contacts' presence with ISON polls next.
///
/// One timer for the whole bridge instead of a sleeping task per connection: a parked task,
/// its timer source and continuations cost about 800 bytes per connection, which was a tenth
/// of a connection's resident memory. Polls due within `slack` of one another are taken
/// together, so the timer wakes about once per `slack` at most however many connections poll.
///
/// A pure value (instants in, keys out); the bridge runs the timer.
struct IRCPollSchedule<Key: Hashable> {
    let interval: Duration
    let slack: Duration
    private var due: [Key: (id: UInt64, at: ContinuousClock.Instant)] = [:]

    /// - Parameter slack: how early a poll may run to join another; by default a tenth of the
    ///   interval, at most a second.
    init(interval: Duration, slack: Duration? = nil) {
        self.interval = interval
        self.slack = slack ?? min(.seconds(1), interval / 10)
    }

    var isEmpty: Bool { due.isEmpty }

    /// Whether connection `id` under `key` is scheduled (for tests).
    func contains(_ key: Key, id: UInt64) -> Bool { due[key]?.id == id }

    /// Connection `id` under `key` polled at `now`: it polls again one interval later. A
    /// connection already scheduled keeps its time.
    mutating func add(_ key: Key, id: UInt64, now: ContinuousClock.Instant) {
        guard due[key]?.id != id else { return }
        due[key] = (id, now + interval)
    }

    /// Connection `id` stops polling (closed, or it has MONITOR or nobody to watch now).
    mutating func remove(_ key: Key, id: UInt64) {
        if due[key]?.id == id { due[key] = nil }
    }

    /// When the timer should wake next; nil when nobody polls.
    var nextWake: ContinuousClock.Instant? { due.values.lazy.map(\.at).min() }

    /// The connections due by `now` (within the slack), each rescheduled one interval on.
    mutating func takeDue(now: ContinuousClock.Instant) -> [(key: Key, id: UInt64)] {
        let horizon = now + slack
        var taken: [(key: Key, id: UInt64)] = []
        for (key, entry) in due where entry.at <= horizon {
            taken.append((key, entry.id))
        }
        for (key, id) in taken { due[key] = (id, now + interval) }
        return taken
    }
}
