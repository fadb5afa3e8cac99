import XMPPCore

/// XEP-0045 moderation from the user's client (muc#admin `set`): kicking (role none), banning
/// (affiliation outcast) and role changes, passed to the network, which decides whether the user
/// may. The network's answer shows up as occupant presence (a KICK is 307, a MODE a new role).
extension Gateway {
    func handleRoomAdmin(_ iq: IQ, _ payload: XMLElement) async {
        guard case .success(let room) = contactAddress(iq.to), bridge.isRoom(room), iq.to?.resourcepart == nil else {
            reply(iq, error: StanzaError(.badRequest, text: "muc#admin goes to a room's JID"))
            return
        }
        guard iq.type == .set else {
            reply(iq, error: StanzaError(.featureNotImplemented, text: "Member lists are not kept for IRC channels; use the occupants' presence"))
            return
        }
        guard let user = allowedUser(iq.from), let registration = await registration(of: user),
              rooms[RoomState.Key(user: user, room: room)]?.joined == true
        else {
            reply(iq, error: StanzaError(.notAcceptable, text: "Join \(room) first"))
            return
        }
        let items = payload.children("item")
        guard !items.isEmpty else {
            reply(iq, error: StanzaError(.badRequest, text: "No <item/> to change"))
            return
        }
        for item in items {
            guard let nick = item[attribute: "nick"] else {
                reply(iq, error: StanzaError(.badRequest, text: "Occupants are named by nick here; affiliations by JID are not supported"))
                return
            }
            let reason = item.childText("reason")
            let action: RoomModeration
            switch (item[attribute: "role"], item[attribute: "affiliation"]) {
            case (_, "outcast"?): action = .ban(reason: reason)
            case ("none"?, _): action = .kick(reason: reason)
            case (let role?, _):
                guard let parsed = RoomOccupant.Role(rawValue: role) else {
                    reply(iq, error: StanzaError(.badRequest, text: "Unknown role \(role)"))
                    return
                }
                action = .role(parsed)
            default:
                reply(iq, error: StanzaError(.featureNotImplemented, text: "Only kicks, bans and roles can be changed here"))
                return
            }
            do {
                try await bridge.moderate(nick, in: room, action, for: account(registration))
            } catch {
                reply(iq, error: StanzaError(error.condition, text: error.text))
                return
            }
        }
        reply(iq)
    }
}
