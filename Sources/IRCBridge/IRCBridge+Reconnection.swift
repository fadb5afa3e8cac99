import GatewayCore

/// What the user sent to a server while its connection was being re-established: the lines,
/// and the ids of the messages they belong to, so a final failure can be reported for each.
struct PendingLines {
    var lines: [String] = []
    var messageIDs: [String] = []
    var attempt = 0
}

extension IRCBridge {
    // MARK: - Reconnection

    /// How many times a dropped connection is retried before the user is told to try later.
    static let reconnectAttempts = 6

    /// Starts re-establishing a dropped connection. Until it is back (or given up), what the user
    /// sends to that server waits in ``reconnecting`` instead of opening another connection.
    func startReconnecting(_ key: IRCBridgeConnection.Key, carrying lines: [String]) {
        reconnecting[key] = PendingLines(lines: lines)
        scheduleReconnect(key, attempt: 0)
    }

    /// Reconnects after a delay that doubles each attempt (1 s, 2 s, 4 s… up to 30 s) with equal
    /// jitter, so a thousand users dropped by one netsplit do not all come back in the same second.
    private func scheduleReconnect(_ key: IRCBridgeConnection.Key, attempt: Int) {
        let ceiling = min(30.0, pow2(attempt))
        let delay = Duration.milliseconds(Int64((ceiling / 2 + Double.random(in: 0...(ceiling / 2))) * 1000))
        Task { [weak self] in
            try? await Task.sleep(for: delay)
            await self?.reconnect(key, attempt: attempt)
        }
    }

    private func reconnect(_ key: IRCBridgeConnection.Key, attempt: Int) async {
        guard reconnecting[key] != nil else { return }
        // Logged out meanwhile: what waited is refused, not dropped.
        guard let account = accounts[key.user] else {
            await giveUp(key, reason: "you logged out")
            return
        }
        do throws(BridgeError) {
            let connection = try await connectedConnection(for: account, server: key.server)
            let pending = reconnecting.removeValue(forKey: key) ?? PendingLines()
            if !pending.lines.isEmpty { enqueue(pending.lines, on: connection) }
            let sent = pending.messageIDs.isEmpty ? "" : " \(pending.messageIDs.count) message(s) you wrote meanwhile were sent."
            await tellUser(key, "Reconnected to \(key.server).\(sent)")
        } catch {
            if attempt + 1 < Self.reconnectAttempts {
                scheduleReconnect(key, attempt: attempt + 1)
            } else {
                await giveUp(key, reason: error.text)
            }
        }
    }

    /// Every message that waited for the connection is reported failed (an error stanza for
    /// each), so nothing the user wrote disappears without a word.
    func giveUp(_ key: IRCBridgeConnection.Key, reason: String) async {
        guard let pending = reconnecting.removeValue(forKey: key) else { return }
        for id in pending.messageIDs {
            await report(.delivery(user: key.user, legacyMessageID: id, outcome: .failed("Not sent: the connection to \(key.server) could not be re-established (\(reason))")))
        }
        await reportServerPresence(key, .unavailable(status: "Disconnected: \(reason)"))
        let dropped = pending.messageIDs.isEmpty ? "" : " \(pending.messageIDs.count) message(s) you wrote meanwhile were not sent."
        await tellUser(key, "Could not reconnect to \(key.server): \(reason).\(dropped) Your next message will try again.")
    }

    private func pow2(_ exponent: Int) -> Double {
        var value = 1.0
        for _ in 0..<min(exponent, 10) { value *= 2 }
        return value
    }
}
