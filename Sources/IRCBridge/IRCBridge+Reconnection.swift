import GatewayCore

extension IRCBridge {
    // MARK: - Reconnection

    /// How many times a dropped connection is retried before the user is told to try later.
    static let reconnectAttempts = 6

    /// Reconnects a dropped connection after a delay that doubles each attempt (1 s, 2 s, 4 s…
    /// up to 30 s) with equal jitter, so a thousand users dropped by one netsplit do not all come
    /// back in the same second. Lines that were waiting go out after reconnecting; a message the
    /// user sends meanwhile opens the connection at once instead.
    func scheduleReconnect(_ key: IRCBridgeConnection.Key, attempt: Int, carrying lines: [String]) {
        let ceiling = min(30.0, pow2(attempt))
        let delay = Duration.milliseconds(Int64((ceiling / 2 + Double.random(in: 0...(ceiling / 2))) * 1000))
        Task { [weak self] in
            try? await Task.sleep(for: delay)
            await self?.reconnect(key, attempt: attempt, carrying: lines)
        }
    }

    func reconnect(_ key: IRCBridgeConnection.Key, attempt: Int, carrying lines: [String]) async {
        // Logged out meanwhile, or a message already opened a new connection.
        guard let account = accounts[key.user] else { return }
        if let existing = connections[key] {
            if !lines.isEmpty { enqueue(lines, on: existing) }
            return
        }
        do {
            let connection = try await connectedConnection(for: account, server: key.server)
            if !lines.isEmpty { enqueue(lines, on: connection) }
            await tellUser(key, "Reconnected to \(key.server).")
        } catch {
            if attempt + 1 < Self.reconnectAttempts {
                scheduleReconnect(key, attempt: attempt + 1, carrying: lines)
            } else {
                let dropped = lines.isEmpty ? "" : " \(lines.count) waiting line(s) were not sent."
                await tellUser(key, "Could not reconnect to \(key.server): \(error.text).\(dropped) Your next message will try again.")
            }
        }
    }

    func pow2(_ exponent: Int) -> Double {
        var value = 1.0
        for _ in 0..<min(exponent, 10) { value *= 2 }
        return value
    }

    /// A message to the user from the IRC server's own JID.
    func tellUser(_ key: IRCBridgeConnection.Key, _ text: String) async {
        await report(.message(user: key.user, from: IRCAddress.server(key.server).localpart(fixedServer: settings.fixedServer),
                              body: text, legacyMessageID: nil))
    }
}
