import GatewayCore

/// Contacts' presence: the user's roster nicks are watched on each server with MONITOR, or
/// ISON polling where the server has none; the server's own JID shows the connection.
extension IRCBridge {
    /// The roster changed (or the user logged in): watch its nicks. A server with contacts in
    /// the roster is connected to now — showing who is online is a use of the connection.
    public func watchContacts(_ addresses: Set<String>, for account: BridgeAccount) async {
        var byServer: [String: Set<String>] = [:]
        for address in addresses {
            guard case .user(let nick, let server)? = try? IRCAddress(localpart: address, fixedServer: settings.fixedServer, maxNickLength: settings.maxNickLength) else { continue }
            byServer[server.lowercased(), default: []].insert(nick)
        }
        let before = watchedNicks[account.user] ?? [:]
        watchedNicks[account.user] = byServer
        for server in Set(before.keys).union(byServer.keys) {
            let key = Self.key(account.user, server)
            if let connection = connections[key], connection.state == .connected {
                startWatching(on: connection)
            } else if byServer[server] != nil, connections[key] == nil, openings[key] == nil, reconnecting[key] == nil {
                Task { _ = try? await self.connectedConnection(for: account, server: server) }
            }
        }
    }

    /// Hands the connection's tracker the current watch list and polls at once; where the
    /// server has no MONITOR, polling repeats every ``IRCBridgeSettings/presencePollInterval``.
    func startWatching(on connection: IRCBridgeConnection) {
        let nicks = watchedNicks[connection.key.user]?[connection.key.server] ?? []
        var lines = connection.presence.watch(nicks)
        lines += connection.presence.poll()
        if !lines.isEmpty { enqueue(lines, on: connection) }
        guard connection.presence.method == .ison, !nicks.isEmpty else {
            stopPolling(connection)
            return
        }
        presencePolls.add(connection.key, id: connection.id, now: .now)
        guard presencePollTimer == nil else { return }
        let slack = presencePolls.slack
        presencePollTimer = Task { [weak self] in
            while let wake = await self?.nextPresencePoll() {
                guard (try? await Task.sleep(until: wake, tolerance: slack, clock: .continuous)) != nil else { return }
                await self?.pollDuePresence()
            }
        }
    }

    /// The connection no longer polls; the timer stops with the last one.
    func stopPolling(_ connection: IRCBridgeConnection) {
        presencePolls.remove(connection.key, id: connection.id)
        if presencePolls.isEmpty {
            presencePollTimer?.cancel()
            presencePollTimer = nil
        }
    }

    /// When the timer wakes next; nil ends it (a cancelled timer has a successor or none).
    private func nextPresencePoll() -> ContinuousClock.Instant? {
        guard !Task.isCancelled else { return nil }
        guard let wake = presencePolls.nextWake else {
            presencePollTimer = nil
            return nil
        }
        return wake
    }

    /// One ISON round on each connection that is due.
    private func pollDuePresence() {
        for (key, id) in presencePolls.takeDue(now: .now) {
            guard let connection = connections[key], connection.id == id, connection.state == .connected else {
                presencePolls.remove(key, id: id)
                continue
            }
            let lines = connection.presence.poll()
            if !lines.isEmpty { enqueue(lines, on: connection) }
        }
    }

    func reportContact(_ change: IRCPresenceTracker.Change, _ key: IRCBridgeConnection.Key) async {
        await report(.presence(
            user: key.user, from: contactAddress(nick: change.nick, server: key.server),
            availability: change.online ? .available() : .unavailable()
        ))
    }

    func reportServerPresence(_ key: IRCBridgeConnection.Key, _ availability: ContactAvailability) async {
        guard settings.fixedServer == nil else { return }  // there the server is the bridge's domain
        await report(.presence(user: key.user, from: IRCAddress.server(key.server).localpart, availability: availability))
    }
}
