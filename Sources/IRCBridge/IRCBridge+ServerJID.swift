import GatewayCore

/// The IRC server's own JID (`irc.libera.chat@irc.example.org`): its MOTD and notices come from
/// there (see the inbound handlers), raw commands go there where the admin allows them, and the
/// user's settings for that server are its `configure` command.
extension IRCBridge {
    /// Each line of `body` is one raw IRC command on the user's connection to `server`.
    func sendRawCommands(_ body: String, to server: String, from account: BridgeAccount) async throws(BridgeError) {
        guard settings.allowRawCommands else {
            throw BridgeError(.forbidden, "This gateway's admin does not allow raw IRC commands; write to nick%\(server) or join #channel%\(server) instead")
        }
        var lines: [String] = []
        for text in body.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) where !String(text).trimmingASCIISpaces().isEmpty {
            do throws(IRCLineError) {
                lines.append(try IRCLineSplitter.rawCommand(String(text)))
            } catch {
                throw BridgeError(.notAcceptable, "“\(IRCAddressError.printable(String(text)))” was not sent: \(error)")
            }
        }
        guard !lines.isEmpty else { return }
        let connection = try await connectedConnection(for: account, server: server)
        // Replies to a raw command are numerics nothing else handles: show them for a while.
        connection.rawRepliesUntil = .now + .seconds(30)
        enqueue(lines, on: connection)
    }

    public nonisolated func contactSettingsFields(for address: String) -> [RegistrationField] {
        guard settings.fixedServer == nil,
              case .server? = try? IRCAddress(localpart: address, fixedServer: nil, maxNickLength: settings.maxNickLength)
        else { return [] }
        return IRCServerPreferences.fields
    }

    public func validateContactSettings(_ values: [String: String], for address: String) async throws(RegistrationError) -> RegistrationRecord {
        guard !contactSettingsFields(for: address).isEmpty else {
            throw RegistrationError(field: nil, "\(address) has no settings", condition: .itemNotFound)
        }
        return try IRCServerPreferences.validate(values, maxNickLength: settings.maxNickLength, allowUnverifiedTLS: settings.allowUnverifiedTLS)
    }
}
