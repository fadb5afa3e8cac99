import GatewayCore

/// What the user sent to a server while its connection was being re-established: the lines,
/// and the ids of the messages they belong to, so a final failure can be reported for each.
struct PendingLines {
    var lines: [String] = []
    var messageIDs: [String] = []
    /// Channels to rejoin (name and key), announced to the core again on 366.
    var channels: [(name: String, key: String?)] = []
}

/// A private message waiting for its connection to open: the nick it goes to, its body, its
/// lines as split for the longest nick we might have (split again for the nick we get), and the
/// id a delivery failure is reported under.
struct QueuedMessage {
    let nick: String
    let body: String
    let lines: [String]
    let id: String
}

extension IRCBridge {
    // MARK: - Reconnection

    /// How many times a dropped connection is retried before the user is told to try later.
    static let reconnectAttempts = 6

    /// Starts re-establishing a dropped connection. Until it is back (or given up), what the user
    /// sends to that server waits in ``reconnecting`` instead of opening another connection.
    func startReconnecting(_ key: IRCBridgeConnection.Key, carrying lines: [String], channels: [(name: String, key: String?)]) {
        reconnecting[key] = PendingLines(lines: lines, channels: channels)
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
            let pending = reconnecting.removeValueReleasingEmptyStorage(forKey: key) ?? PendingLines()
            rejoin(pending.channels, on: connection)
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
        guard let pending = reconnecting.removeValueReleasingEmptyStorage(forKey: key) else { return }
        for id in pending.messageIDs {
            await report(.delivery(user: key.user, legacyMessageID: id, outcome: .failed("Not sent: the connection to \(key.server) could not be re-established (\(reason))")))
        }
        for channel in pending.channels {
            let room = IRCAddress.channel(name: IRCAddress.lowercasedASCII(channel.name), server: key.server).localpart(fixedServer: settings.fixedServer)
            await report(.roomLeft(user: key.user, room: room, kickedBy: nil, reason: "The connection to \(key.server) could not be re-established (\(reason))"))
        }
        await reportServerPresence(key, .unavailable(status: "Disconnected: \(reason)"))
        let dropped = pending.messageIDs.isEmpty ? "" : " \(pending.messageIDs.count) message(s) you wrote meanwhile were not sent."
        await tellUser(key, "Could not reconnect to \(key.server): \(reason).\(dropped) Your next message will try again.")
    }

    /// JOINs the channels the user was in before the connection dropped; their 366 tells the
    /// core who is there now.
    private func rejoin(_ channels: [(name: String, key: String?)], on connection: IRCBridgeConnection) {
        for channel in channels {
            guard let line = try? IRCLineSplitter.command("JOIN", [channel.name] + (channel.key.map { [$0] } ?? []), trailing: nil) else { continue }
            connection.channels[connection.caseMapping.fold(channel.name)] = IRCChannel(name: channel.name, key: channel.key, caseMapping: connection.caseMapping)
            enqueue([Self.withoutLineEnd(line)], on: connection)
        }
    }

    private func pow2(_ exponent: Int) -> Double {
        var value = 1.0
        for _ in 0..<min(exponent, 10) { value *= 2 }
        return value
    }
}
