#if canImport(FoundationEssentials)
import FoundationEssentials  // not Foundation: its ICU clashes with libxml2's in modules that see CLibXML2
#else
import Foundation
#endif
import XMPPCore

extension Gateway {
    func handleMessage(_ message: Message) async {
        if let privilege = message.element.child("privilege", namespace: Namespace.privilege),
           let server = message.from, server.localpart == nil {
            handlePrivilege(privilege, from: server.domainpart)
            return
        }
        // Errors are never answered; the user's server bounced something of ours.
        guard !message.isError, let origin = sender(of: message.element), let to = recipient(of: message.element) else { return }
        let from = origin.jid
        guard let user = origin.user else {
            await fail(message, StanzaError(.forbidden, text: "Only users of \(policy.allowedDomains.sorted().joined(separator: ", ")) may use \(domain)"), to: from.bare.description)
            return
        }
        // Chat states, receipts and the like carry no body: nothing to bridge.
        // (A room's subject change or an invitation has no body.)
        guard to.localpart != nil else { return }
        let body = message.body ?? ""
        guard !body.isEmpty || message.element.child("subject") != nil || message.element.child("x", namespace: Namespace.mucUser) != nil else { return }
        guard let registration = await registration(of: user) else {
            await fail(message, StanzaError(.registrationRequired, text: "Register with \(domain) first"), to: user)
            return
        }
        var address: String
        switch contactAddress(to) {
        case .failure(let error):
            await fail(message, error, to: user)
            return
        case .success(let value):
            address = value
        }
        if bridge.isRoom(address) {
            if to.resourcepart == nil, await roomInvitation(message, user: user, room: address) { return }
            if message.type == .groupchat {
                await roomMessage(message, user: user, from: from, room: address)
                return
            }
            // A private message to an occupant is a private chat with that person.
            guard let nick = to.resourcepart, let occupant = bridge.occupantAddress(room: address, nick: nick) else {
                await fail(message, StanzaError(.badRequest, text: "Write to the room with type='groupchat', or to an occupant"), to: user)
                return
            }
            address = occupant
        }
        guard !body.isEmpty else { return }
        if loginStates[user] != .online {
            await logIn(user)
        }
        if case .failed(let reason) = loginStates[user] {
            await fail(message, StanzaError(.recipientUnavailable, text: "Not logged in: \(reason)"), to: user)
            return
        }
        do {
            let legacyID = try await bridge.send(OutgoingMessage(to: address, body: body, xmppID: message.id), from: account(registration))
            if let early = recordSent(legacyID, of: message, from: from, to: address) {
                try await report(early)
            }
        } catch let error as BridgeError {
            await fail(message, StanzaError(error.condition, text: error.text), to: user)
        } catch {
            logger.error("cannot record a sent message or its early delivery report: \(error)")
        }
    }

    /// Sends a lone chat message at once, when nothing about it has to wait, and returns true;
    /// returns false having done nothing otherwise, and ``handle(_:)`` does it the async way.
    /// ``sendNow(_:)`` and ``finishSend(_:)`` in one.
    public func handleNow(_ element: XMLElement) -> Bool {
        guard let sent = sendNow(element) else { return false }
        finishSend(sent)
        return true
    }

    /// Hands a lone chat message to the bridge at once, when nothing about it has to wait, and
    /// returns it for ``finishSend(_:)``; returns nil having done nothing otherwise, and
    /// ``handle(_:)`` does it the async way.
    ///
    /// "Nothing has to wait": the sender is a logged-in user whose registration is cached, the
    /// recipient a contact (not a room), and the bridge can send now (``Bridge/sendNow(_:from:)``:
    /// the IRC bridge, on this thread, with the user's connection up). Then the message is read,
    /// handled and written to the foreign network with no task and no suspension, as a
    /// single-threaded gateway would. The caller must know no earlier stanza of the sender is
    /// still being handled (its lane is idle), so order is kept.
    public func sendNow(_ element: XMLElement) -> SentNow? {
        guard element.name == StanzaKind.message.rawValue, let message = Message(element), !message.isError,
              let body = message.body, !body.isEmpty,
              let origin = sender(of: element), let user = origin.user,
              let to = recipient(of: element), to.localpart != nil,
              case .some(.some(let registration)) = registrationCache[user], loginStates[user] == .online,
              case .success(let address) = contactAddress(to), !bridge.isRoom(address)
        else { return nil }
        let outgoing = OutgoingMessage(to: address, body: body, xmppID: message.id)
        guard case .sent(let legacyID) = bridge.sendNow(outgoing, from: account(registration)) else { return nil }
        return SentNow(legacyID: legacyID, message: message, from: origin.jid, address: address)
    }

    /// Remembers a message ``sendNow(_:)`` sent, for its delivery reports. The caller does it
    /// before this gateway handles anything else, and may do it once the message's line has
    /// been written: a read of several messages writes their lines first, and remembers them
    /// after (a few µs each that the lines need not wait for).
    public func finishSend(_ sent: SentNow) {
        guard let early = recordSent(sent.legacyID, of: sent.message, from: sent.from, to: sent.address) else { return }
        Task {
            do { try await report(early) } catch { logger.error("cannot report an early delivery: \(error)") }
        }
    }

    /// Remembers a sent message for its delivery reports; returns the report that came before
    /// the send was recorded, if one did.
    private func recordSent(_ legacyID: String?, of message: Message, from: JID, to address: String) -> BridgeEvent? {
        defer { logger.debug("message sent", metadata: ["id": "\(legacyID ?? "none")", "xmpp_id": "\(message.id ?? "none")"]) }
        guard let legacyID, let xmppID = message.id else { return nil }
        // The address as the server wrote it: rebuilding it from the parsed JID is a string per message.
        let user = message.element[attribute: "from"] ?? from.description
        let sent = SentMessage(bridge: domain, user: user, xmppID: xmppID, peer: address, legacyMessageID: legacyID, createdAt: Date())
        recentSends.insert(sent)
        if bridge.reportsDeliveryAfterRestart { sentLog.record(sent) }
        return earlyDeliveries.removeValue(forKey: legacyID).map { .delivery(user: user, legacyMessageID: legacyID, outcome: $0) }
    }

    /// Bounces a message back to its sender with an error; kept durably like any other message.
    func fail(_ message: Message, _ error: StanzaError, to user: String) async {
        guard let reply = StanzaError.reply(to: message.element, with: error) else { return }
        do {
            try await outbox.deliver(reply, recipient: user)
        } catch {
            logger.error("cannot store an error for the user: \(error)")
            send(reply)
        }
    }
}


extension Gateway {
    /// The send a delivery report is about: from memory, else from the store. A send remembered
    /// while the store was read counts too, so its report is not parked as early.
    func sentMessage(_ legacyMessageID: String) async throws -> SentMessage? {
        if let recent = recentSends[legacyMessageID] { return recent }
        let stored = try await sentLog.storedSend(legacyMessageID)
        return stored ?? recentSends[legacyMessageID]
    }
}

/// A message ``Gateway/sendNow(_:)`` handed to the bridge, still to be remembered for its
/// delivery reports (``Gateway/finishSend(_:)``).
public struct SentNow {
    fileprivate let legacyID: String?
    fileprivate let message: Message
    fileprivate let from: JID
    fileprivate let address: String
}
