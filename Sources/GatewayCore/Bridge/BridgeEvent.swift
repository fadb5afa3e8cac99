import XMPPCore

/// What happens on a foreign network that the gateway core turns into XMPP.
public enum BridgeEvent: Sendable, Hashable {
    /// A message from a legacy address to a user.
    case message(user: String, from: String, body: String, legacyMessageID: String?)
    /// The network's verdict on a message the user sent earlier.
    case delivery(user: String, legacyMessageID: String, outcome: DeliveryOutcome)
    /// The user's login on the network changed.
    case login(user: String, state: LoginState)
    /// A contact's presence as the network sees it (online, away, gone). The address may be any
    /// legacy address, including a bridge's control address (an IRC server while reconnecting).
    case presence(user: String, from: String, availability: ContactAvailability)

    /// The user is in `room` as `nick`, with these occupants (themselves included) and subject.
    /// Sent again after a reconnection rejoined the room; the core then shows only what changed.
    case roomJoined(user: String, room: String, nick: String, occupants: [RoomOccupant], subject: RoomSubject?)
    /// Joining `room` failed; the error becomes the join presence's error.
    case roomJoinFailed(user: String, room: String, error: BridgeError)
    /// The user is no longer in `room` (kicked, or the connection could not be re-established).
    case roomLeft(user: String, room: String, kickedBy: String?, reason: String?)
    case roomOccupant(user: String, room: String, change: RoomOccupantChange)
    /// Someone said something in a room (never the user: the core reflects the user's own).
    case roomMessage(user: String, room: String, nick: String, body: String, kind: RoomMessageKind)
    case roomSubject(user: String, room: String, subject: RoomSubject)
    /// The user's membership is interrupted (the connection dropped) and being re-established:
    /// the room stays joined, and a later ``roomJoined(user:room:nick:occupants:subject:)`` shows
    /// what changed meanwhile, or ``roomLeft(user:room:kickedBy:reason:)`` ends it.
    case roomInterrupted(user: String, room: String, reason: String)
    /// The network refused a nick change the user asked for in `room`.
    case roomNickRefused(user: String, room: String, nick: String, error: BridgeError)
    /// Someone invites the user to a room.
    case roomInvitation(user: String, room: String, from: String, reason: String?)
}

/// A room's subject and who set it.
public struct RoomSubject: Sendable, Hashable {
    public var text: String
    public var setBy: String?

    public init(text: String, setBy: String? = nil) {
        self.text = text
        self.setBy = setBy
    }
}

/// A contact's presence on the network.
public enum ContactAvailability: Sendable, Hashable {
    case available(status: String? = nil)
    case away(status: String? = nil)
    case unavailable(status: String? = nil)
}

public enum DeliveryOutcome: Sendable, Hashable {
    case delivered
    /// Not delivered; shown to the user as `recipient-unavailable` with the text.
    case failed(String)
    /// Refused for a reason with its own stanza error (an IRC nick that does not exist is
    /// `item-not-found`).
    case refused(StanzaError.Condition, String)
}

public enum LoginState: Sendable, Hashable {
    case online
    case failed(String)
    case offline
}

/// Where a bridge reports events. The core implements it; calls return once the event is
/// durably accepted (a message is in the store), so a bridge can acknowledge its network then.
public protocol BridgeEventSink: Sendable {
    func report(_ event: BridgeEvent) async throws

    /// The registered user whose identity on the network is `legacyID` (an SMS bridge's own
    /// number), logged in or not: messages for offline users are delivered all the same.
    func account(forLegacyID legacyID: String) async -> BridgeAccount?

    /// What `user` set for `address` with the `configure` command (``Bridge/contactSettingsFields(for:)``),
    /// secrets opened; `nil` when nothing was set.
    func contactSettings(user: String, address: String) async -> RegistrationRecord?
}

extension BridgeEventSink {
    public func contactSettings(user: String, address: String) async -> RegistrationRecord? { nil }
}
