import GatewayCore

/// vCards from WHOIS: asking for a contact's vCard sends WHOIS on the user's connection to the
/// contact's server (opening it if needed) and answers with what comes back.
extension IRCBridge {
    public func lookUpContact(_ address: String, for account: BridgeAccount) async throws(BridgeError) -> ContactProfile {
        guard case .user(let nick, let server)? = try? IRCAddress(localpart: address, fixedServer: settings.fixedServer, maxNickLength: settings.maxNickLength) else {
            return contactProfile(address)
        }
        let line: String
        do throws(IRCLineError) {
            line = Self.withoutLineEnd(try IRCLineSplitter.command("WHOIS", [nick], trailing: nil))
        } catch {
            throw BridgeError(.jidMalformed, "\(error)")
        }
        let connection = try await connectedConnection(for: account, server: server)
        let folded = connection.caseMapping.fold(nick)
        let alreadyAsked = connection.whois[folded] != nil
        if !alreadyAsked {
            connection.whois[folded] = IRCWhoisReply(nick: nick)
            enqueue([line], on: connection)
            let timeout = settings.whoisTimeout
            let key = connection.key
            let id = connection.id
            // Cancelled when answered: a sleep left running could time out the next WHOIS of the
            // same nick on this connection.
            connection.whois[folded]?.timer = OneShotTimer(after: timeout) { [weak self] in
                Task { await self?.whoisTimedOut(folded, key: key, connection: id, after: timeout) }
            }
        }
        let result = await withCheckedContinuation { continuation in
            connection.whois[folded]?.waiters.append(continuation)
        }
        return try result.get()
    }

    private func whoisTimedOut(_ folded: String, key: IRCBridgeConnection.Key, connection id: UInt64, after timeout: Duration) {
        guard let connection = connections[key], connection.id == id else { return }
        _ = finishWhois(folded, on: connection, with: .failure(BridgeError(.remoteServerTimeout, "\(key.server) did not answer WHOIS within \(timeout)")))
    }

    /// Adds a WHOIS numeric to the reply being collected; false when nobody asked (a WHOIS the
    /// user sent as a raw command), so the caller shows it instead. 318 ends the reply.
    func collectWhois(_ code: UInt32, _ params: [String], on connection: IRCBridgeConnection) -> Bool {
        guard params.count >= 2 else { return false }
        let folded = connection.caseMapping.fold(params[1])
        guard connection.whois[folded] != nil else { return false }
        if code == 318 {
            if let reply = connection.whois[folded] {
                // 318 without 311 means the server knows no such nick (some send only 318).
                let result: Result<ContactProfile, BridgeError> = reply.user == nil
                    ? .failure(BridgeError(.itemNotFound, "No such nick: \(params[1])"))
                    : .success(reply.profile)
                _ = finishWhois(folded, on: connection, with: result)
            }
        } else {
            connection.whois[folded]?.apply(code, params)
        }
        return true
    }

    /// Answers everyone waiting for the WHOIS of `folded`; false when nobody was.
    @discardableResult
    func finishWhois(_ folded: String, on connection: IRCBridgeConnection, with result: Result<ContactProfile, BridgeError>) -> Bool {
        guard let reply = connection.whois.removeValue(forKey: folded) else { return false }
        reply.timer?.cancel()
        for waiter in reply.waiters { waiter.resume(returning: result) }
        return true
    }
}
