/// Which new connections to a server may start now: at most `limit` at once per server, from
/// the TCP connect until the server's first line; the rest wait their turn, first come first
/// served.
///
/// Without it, a burst of users (a daemon restart, a netsplit's reconnects, a popular room's
/// users all joining) opens hundreds of TCP connections to one server in the same millisecond.
/// The kernel completes each handshake into the server's accept queue, which holds only the
/// listen backlog (ngircd: 10); the overflow's SYNs are dropped and retried after 1 s, then
/// 3 s, 7 s. Measured on ngircd with 300 users: 1.3–4.7 s to bring them all online, about a
/// third of the SYNs retransmitted. A server that has sent a line has accepted the connection,
/// so that frees the turn.
///
/// A pure value: the bridge keeps the waiting callers' continuations by id.
struct IRCConnectTurns {
    let limit: Int
    private var servers: [String: Server] = [:]

    private struct Server {
        var connecting: Set<UInt64> = []
        var waiting: [UInt64] = []
        var waitingHead = 0
        var isIdle: Bool { connecting.isEmpty && waitingHead == waiting.count }
    }

    init(limit: Int) {
        precondition(limit > 0, "at least one connection must be allowed to start")
        self.limit = limit
    }

    /// Asks for a turn for connection `id` to `server`: true if it may connect now; false if it
    /// waits until a ``release(_:server:)`` names it.
    mutating func request(_ id: UInt64, server: String) -> Bool {
        var entry = servers[server, default: Server()]
        defer { servers[server] = entry }
        if entry.connecting.count < limit && entry.waitingHead == entry.waiting.count {
            entry.connecting.insert(id)
            return true
        }
        entry.waiting.append(id)
        return false
    }

    /// Connection `id` heard from the server, or ended (whether it had its turn or still
    /// waited). Returns the connections that may connect now, in the order they asked.
    mutating func release(_ id: UInt64, server: String) -> [UInt64] {
        guard var entry = servers[server] else { return [] }
        var admitted: [UInt64] = []
        if entry.connecting.remove(id) == nil {
            // Given up while waiting: it leaves the queue.
            guard let index = entry.waiting[entry.waitingHead...].firstIndex(of: id) else { return [] }
            entry.waiting.remove(at: index)
        }
        while entry.connecting.count < limit, entry.waitingHead < entry.waiting.count {
            let next = entry.waiting[entry.waitingHead]
            entry.waitingHead += 1
            entry.connecting.insert(next)
            admitted.append(next)
        }
        if entry.waitingHead == entry.waiting.count {
            entry.waiting.removeAll(keepingCapacity: true)
            entry.waitingHead = 0
        }
        servers[server] = entry.isIdle ? nil : entry
        return admitted
    }
}
