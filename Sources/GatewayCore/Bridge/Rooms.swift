/// Group chat on a foreign network (IRC channels), as the gateway core shows it through
/// XEP-0045. The bridge joins, leaves and speaks; the core keeps who is in the room, which of
/// the user's resources are joined, the archive, and all of the XMPP.

/// Someone in a room.
public struct RoomOccupant: Sendable, Hashable {
    public enum Affiliation: String, Sendable, Hashable { case owner, admin, member, none, outcast }
    public enum Role: String, Sendable, Hashable { case moderator, participant, visitor, none }

    public var nick: String
    public var affiliation: Affiliation
    public var role: Role

    public init(nick: String, affiliation: Affiliation = .none, role: Role = .participant) {
        self.nick = nick
        self.affiliation = affiliation
        self.role = role
    }
}

/// What changed among a room's occupants.
public enum RoomOccupantChange: Sendable, Hashable {
    case joined(RoomOccupant)
    /// Left the room, or the network (IRC PART and QUIT), with a reason.
    case left(nick: String, reason: String?)
    /// Removed by someone (IRC KICK).
    case kicked(nick: String, by: String?, reason: String?)
    case nickChanged(from: String, to: String)
    /// New role or affiliation (IRC MODE +o/-v…).
    case updated(RoomOccupant)
}

/// What a moderator asks for about an occupant (XEP-0045 §8–9, muc#admin).
public enum RoomModeration: Sendable, Hashable {
    /// role='none': out of the room (IRC KICK).
    case kick(reason: String?)
    /// affiliation='outcast': banned and out (IRC MODE +b, then KICK).
    case ban(reason: String?)
    /// A new role (moderator: IRC +o; participant: -o; visitor: -v).
    case role(RoomOccupant.Role)
}

/// How a room's messages were sent.
public enum RoomMessageKind: String, Sendable, Hashable {
    case normal, action, notice
}

/// What the network says about a room, for disco#info.
public struct RoomInfo: Sendable, Hashable {
    public var name: String
    public var subject: String?
    public var occupantCount: Int?
    public var isPasswordProtected = false
    public var isMembersOnly = false
    public var isModerated = false
    /// True for rooms that outlive their last occupant (IRC channels with +P, or registered).
    public var isPersistent = false
    public var isPublic = true

    public init(name: String, subject: String? = nil, occupantCount: Int? = nil) {
        self.name = name
        self.subject = subject
        self.occupantCount = occupantCount
    }
}

/// One room of a network's room list (IRC LIST).
public struct RoomListing: Sendable, Hashable {
    public var address: String
    public var name: String
    public var occupantCount: Int?
    public var subject: String?

    public init(address: String, name: String, occupantCount: Int? = nil, subject: String? = nil) {
        self.address = address
        self.name = name
        self.occupantCount = occupantCount
        self.subject = subject
    }
}

extension Bridge {
    public func isRoom(_ address: String) -> Bool { false }

    public func joinRoom(_ room: String, nick: String, password: String?, for account: BridgeAccount) async throws(BridgeError) {
        throw BridgeError(.serviceUnavailable, "\(identity.domain) has no rooms")
    }

    public func leaveRoom(_ room: String, for account: BridgeAccount) async {}

    public func sendToRoom(_ room: String, body: String, for account: BridgeAccount) async throws(BridgeError) {
        throw BridgeError(.serviceUnavailable, "\(identity.domain) has no rooms")
    }

    public func setRoomSubject(_ room: String, subject: String, for account: BridgeAccount) async throws(BridgeError) {
        throw BridgeError(.featureNotImplemented, "Subjects cannot be changed here")
    }

    public func occupantAddress(room: String, nick: String) -> String? { nil }

    public func moderate(_ nick: String, in room: String, _ action: RoomModeration, for account: BridgeAccount) async throws(BridgeError) {
        throw BridgeError(.featureNotImplemented, "Moderation is not supported here")
    }

    public func changeRoomNick(_ room: String, to nick: String, for account: BridgeAccount) async throws(BridgeError) {
        throw BridgeError(.notAllowed, "Nicks cannot be changed here")
    }

    public func invite(_ address: String, to room: String, reason: String?, for account: BridgeAccount) async throws(BridgeError) {
        throw BridgeError(.featureNotImplemented, "Invitations are not supported here")
    }

    public func roomInfo(_ room: String, for account: BridgeAccount?) async -> RoomInfo { RoomInfo(name: room) }

    public func listRooms(at address: String, for account: BridgeAccount) async throws(BridgeError) -> [RoomListing] {
        throw BridgeError(.featureNotImplemented, "\(address) has no room list")
    }

    public func listsRooms(at address: String) -> Bool { false }
}
