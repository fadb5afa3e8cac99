import XMPPCore

/// What a kind of bridge implements: its foreign network, and nothing of XMPP framing.
///
/// The gateway core does all of XMPP — registration forms, presence, roster, receipts, errors —
/// and calls the bridge to validate registrations, log users in and out and send messages. The
/// bridge reports what happens on its network as ``BridgeEvent``s through the sink it is started
/// with. Implementations are actors or otherwise `Sendable`.
public protocol Bridge: Sendable {
    /// How the bridge shows itself on its domain.
    var identity: BridgeIdentity { get }

    /// What a user is asked for at registration, in order.
    var registrationFields: [RegistrationField] { get }

    /// A sentence shown above the registration form.
    var registrationInstructions: String { get }

    /// jabber:iq:gateway (XEP-0100 §6.3): what to ask for when a user adds a contact.
    var contactPrompt: ContactPrompt { get }

    /// Starts the bridge; it reports events through `events` from then on.
    func start(events: BridgeEventSink) async

    /// Stops the bridge: every user is logged out.
    func stop() async

    /// Checks a submitted registration (and, where the network allows, checks it with the
    /// network), returning what to store. Throws a ``RegistrationError`` naming the field.
    func validateRegistration(_ submission: RegistrationSubmission) async throws(RegistrationError) -> RegistrationRecord

    /// Logs a registered user into the foreign network. Throws with a text for the user when it fails.
    func logIn(_ account: BridgeAccount) async throws(BridgeError)

    /// Logs a user out of the foreign network.
    func logOut(user: String) async

    /// Sends a message from a user to a legacy address. Returns the network's id for it, if the
    /// network reports delivery later (``BridgeEvent/delivery(user:legacyMessageID:outcome:)``).
    func send(_ message: OutgoingMessage, from account: BridgeAccount) async throws(BridgeError) -> String?

    /// Sends a message as ``send(_:from:)`` would, at once and without waiting, when the bridge
    /// can (it runs on the caller's thread, and the message goes out as it stands); otherwise
    /// does nothing and says ``SendNowOutcome/mustWait``, and the caller uses ``send(_:from:)``.
    /// Anything that would fail must wait: the failure is reported by the async send.
    func sendNow(_ message: OutgoingMessage, from account: BridgeAccount) -> SendNowOutcome

    /// The canonical legacy address for what a user typed or for a JID localpart, or why not.
    func normalizeAddress(_ input: String) -> Result<String, AddressError>

    /// What the gateway says about a contact in disco#info and vCard-temp.
    func contactProfile(_ address: String) -> ContactProfile

    /// An HTTP request for this bridge (carrier webhooks). Bridges without webhooks answer 404.
    func handleWebhook(_ request: WebhookRequest) async -> WebhookResponse

    /// Whether ``BridgeEventSink/report(_:)`` must return only once a message is stored, so the
    /// bridge can acknowledge it to its network (SMS webhooks). Networks that cannot redeliver
    /// (IRC) say false: their messages go out from memory while the link is up and are stored
    /// only when they must be (see ``DurableOutbox/enqueue(_:recipient:)``), in order either way.
    var acknowledgesDelivery: Bool { get }

    /// Whether a delivery report (``BridgeEvent/delivery(user:legacyMessageID:outcome:)``) can
    /// come after a restart of the daemon (an SMS carrier's callback). Then every send's id is
    /// written to the store; otherwise (IRC: reports come only on the connection that sent)
    /// recent sends are kept in memory only.
    var reportsDeliveryAfterRestart: Bool { get }

    /// Whether the bridge reports its contacts' presence (``BridgeEvent/presence(user:from:availability:)``).
    /// When it does not, contacts show available while the user is logged in.
    var reportsContactPresence: Bool { get }

    /// Whether a user may keep the network session while no XMPP resource is online; the core
    /// then offers a "stay connected" choice at registration.
    var canStayConnected: Bool { get }

    /// The legacy addresses in the user's roster: called after each login and whenever the
    /// roster changes, always with the whole set. A bridge with presence watches these.
    func watchContacts(_ addresses: Set<String>, for account: BridgeAccount) async

    /// What the network says about a contact right now (IRC's WHOIS), for vCard-temp. Throws
    /// `item-not-found` for a contact the network does not know.
    func lookUpContact(_ address: String, for account: BridgeAccount) async throws(BridgeError) -> ContactProfile

    /// Settings a user keeps on one contact JID (an IRC server's ports, TLS and passwords),
    /// offered as the ad-hoc command `configure` there; empty when the address has none.
    func contactSettingsFields(for address: String) -> [RegistrationField]

    /// Checks settings submitted for a contact JID, returning what to store (secrets sealed).
    func validateContactSettings(_ values: [String: String], for address: String) async throws(RegistrationError) -> RegistrationRecord

    // MARK: Rooms (XEP-0045); defaults in Rooms.swift say "no rooms here".

    /// Whether a (normalized) address is a room.
    func isRoom(_ address: String) -> Bool

    /// Starts joining `room` as `nick` (the network may give another nick). The outcome comes as
    /// ``BridgeEvent/roomJoined(user:room:nick:occupants:subject:)`` or
    /// ``BridgeEvent/roomJoinFailed(user:room:error:)``; throws only when it cannot even start.
    func joinRoom(_ room: String, nick: String, password: String?, for account: BridgeAccount) async throws(BridgeError)

    /// Leaves `room` (the user's last resource left it).
    func leaveRoom(_ room: String, for account: BridgeAccount) async

    /// Says `body` in `room` (an action when it starts with `/me `).
    func sendToRoom(_ room: String, body: String, for account: BridgeAccount) async throws(BridgeError)

    func setRoomSubject(_ room: String, subject: String, for account: BridgeAccount) async throws(BridgeError)

    /// Changes the user's nick in `room` (on IRC: everywhere on that server). The outcome comes
    /// as an occupant nick change, or ``BridgeEvent/roomNickRefused(user:room:nick:error:)``.
    func changeRoomNick(_ room: String, to nick: String, for account: BridgeAccount) async throws(BridgeError)

    /// Kicks, bans or changes the role of an occupant (the network decides whether the user may).
    func moderate(_ nick: String, in room: String, _ action: RoomModeration, for account: BridgeAccount) async throws(BridgeError)

    /// Invites the person at legacy `address` into `room` (XEP-0045 mediated invitation).
    func invite(_ address: String, to room: String, reason: String?, for account: BridgeAccount) async throws(BridgeError)

    /// The legacy address for a private chat with an occupant (`bob%server` for `#chan%server/bob`).
    func occupantAddress(room: String, nick: String) -> String?

    /// What the network says about a room, joined or not.
    func roomInfo(_ room: String, for account: BridgeAccount?) async -> RoomInfo

    /// Whether the address (an IRC server) has a room list for disco#items.
    func listsRooms(at address: String) -> Bool

    /// The network's room list at `address`; the core pages it (RSM).
    func listRooms(at address: String, for account: BridgeAccount) async throws(BridgeError) -> [RoomListing]
}

extension Bridge {
    public func stop() async {}

    public func sendNow(_ message: OutgoingMessage, from account: BridgeAccount) -> SendNowOutcome { .mustWait }

    public func handleWebhook(_ request: WebhookRequest) async -> WebhookResponse {
        WebhookResponse(status: 404, body: "no such endpoint")
    }

    public func contactProfile(_ address: String) -> ContactProfile {
        ContactProfile(name: address, category: "client", type: "pc")
    }

    public var reportsContactPresence: Bool { false }

    public var acknowledgesDelivery: Bool { true }

    public var reportsDeliveryAfterRestart: Bool { true }

    public var canStayConnected: Bool { false }

    public func watchContacts(_ addresses: Set<String>, for account: BridgeAccount) async {}

    public func lookUpContact(_ address: String, for account: BridgeAccount) async throws(BridgeError) -> ContactProfile {
        contactProfile(address)
    }

    public func contactSettingsFields(for address: String) -> [RegistrationField] { [] }

    public func validateContactSettings(_ values: [String: String], for address: String) async throws(RegistrationError) -> RegistrationRecord {
        throw RegistrationError(field: nil, "\(address) has no settings", condition: .itemNotFound)
    }
}

/// One field of a registration form.
public struct RegistrationField: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case text
        /// Never echoed back, stored sealed.
        case secret
        case boolean
        case choice([String])
        /// Several lines (x:data text-multi), stored joined by line feeds.
        case lines
    }

    /// The x:data `var`, and the key in stored fields.
    public var name: String
    public var label: String
    public var description: String?
    public var kind: Kind
    public var isRequired: Bool
    /// The XEP-0077 element clients without x:data fill in (`username`, `password`, `phone`…).
    public var legacyElement: String?

    public init(_ name: String, label: String, description: String? = nil, kind: Kind = .text, isRequired: Bool = true, legacyElement: String? = nil) {
        self.name = name
        self.label = label
        self.description = description
        self.kind = kind
        self.isRequired = isRequired
        self.legacyElement = legacyElement
    }

    public var isSecret: Bool { kind == .secret }
}

/// What a user submitted, with the registration it replaces if any.
public struct RegistrationSubmission: Sendable {
    public var user: String
    public var values: [String: String]
    public var previous: RegistrationRecord?

    public init(user: String, values: [String: String], previous: RegistrationRecord?) {
        self.user = user
        self.values = values
        self.previous = previous
    }
}

/// What a bridge keeps of a registration: plain fields, secrets (sealed at rest) and the user's
/// identity on the network, which no two users of a bridge may share.
public struct RegistrationRecord: Sendable, Hashable {
    public var legacyID: String?
    public var fields: [String: String]
    public var secrets: [String: String]

    public init(legacyID: String?, fields: [String: String], secrets: [String: String] = [:]) {
        self.legacyID = legacyID
        self.fields = fields
        self.secrets = secrets
    }
}

/// A registered user as the bridge sees them.
public struct BridgeAccount: Sendable, Hashable {
    /// The user's bare JID.
    public var user: String
    public var record: RegistrationRecord

    public init(user: String, record: RegistrationRecord) {
        self.user = user
        self.record = record
    }
}

/// A registration the bridge refused, with the field at fault.
public struct RegistrationError: Error, Sendable, Hashable {
    public var field: String?
    public var text: String
    /// `not-acceptable` for bad values; `conflict` when another user holds the identity.
    public var condition: StanzaError.Condition

    public init(field: String?, _ text: String, condition: StanzaError.Condition = .notAcceptable) {
        self.field = field
        self.text = text
        self.condition = condition
    }
}

/// Why the bridge could not do something, in words for the user.
public struct BridgeError: Error, Sendable, Hashable {
    public var condition: StanzaError.Condition
    public var text: String

    public init(_ condition: StanzaError.Condition, _ text: String) {
        self.condition = condition
        self.text = text
    }
}

/// Why a legacy address is not one.
public struct AddressError: Error, Sendable, Hashable {
    public var text: String
    public init(_ text: String) { self.text = text }
}

/// The jabber:iq:gateway prompt.
public struct ContactPrompt: Sendable, Hashable {
    public var description: String
    public var prompt: String

    public init(description: String, prompt: String) {
        self.description = description
        self.prompt = prompt
    }
}

/// How a contact is described in disco#info and vCard-temp.
public struct ContactProfile: Sendable, Hashable {
    public var name: String
    public var category: String
    public var type: String
    public var telephone: String?
    /// The person's own name where the network has one (IRC's real name), for vCard `FN`.
    public var fullName: String?
    /// Free text about the contact (where they are connected from, their channels, idle time).
    public var about: String?

    public init(name: String, category: String, type: String, telephone: String? = nil, fullName: String? = nil, about: String? = nil) {
        self.name = name
        self.category = category
        self.type = type
        self.telephone = telephone
        self.fullName = fullName
        self.about = about
    }
}

/// What ``Bridge/sendNow(_:from:)`` did.
public enum SendNowOutcome: Sendable, Equatable {
    /// Sent, with the id ``Bridge/send(_:from:)`` would have returned.
    case sent(legacyMessageID: String?)
    /// Nothing done: send it with ``Bridge/send(_:from:)``.
    case mustWait
}

/// A chat message from a user to a legacy address.
public struct OutgoingMessage: Sendable, Hashable {
    public var to: String
    public var body: String
    /// The XMPP message id, kept so delivery reports can refer to it.
    public var xmppID: String?

    public init(to: String, body: String, xmppID: String?) {
        self.to = to
        self.body = body
        self.xmppID = xmppID
    }
}

/// An HTTP request routed to a bridge by the daemon's HTTP listener.
public struct WebhookRequest: Sendable {
    /// The path below the bridge's prefix, e.g. `/inbound`.
    public var path: String
    public var method: String
    public var headers: [String: String]
    public var body: [UInt8]

    public init(path: String, method: String, headers: [String: String], body: [UInt8]) {
        self.path = path
        self.method = method
        self.headers = headers
        self.body = body
    }

    /// A header by name, case-insensitively.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.key.lowercased() == lowered }?.value
    }
}

/// The answer to a ``WebhookRequest``.
public struct WebhookResponse: Sendable, Hashable {
    public var status: Int
    public var body: String

    public init(status: Int, body: String = "") {
        self.status = status
        self.body = body
    }
}
