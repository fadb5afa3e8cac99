import Logging
import XMPPCore

/// The gateway core for one bridge instance: everything XMPP between users and their bridge.
///
/// Every stanza for the bridge's domain arrives here through ``handle(_:)``; every event from
/// the bridge through ``report(_:)``. It answers registration (XEP-0077), follows the XEP-0100
/// presence flows — logging users in on their first available resource and out after the last —
/// keeps contacts in rosters, and delivers foreign messages through a ``DurableOutbox`` so none
/// is lost.
public actor Gateway: BridgeEventSink {
    let bridge: any Bridge
    let identity: BridgeIdentity
    let store: GatewayStore
    let sender: any StanzaSender
    let outbox: DurableOutbox
    let policy: GatewayPolicy
    let logger: Logger
    let responder: CoreQueryResponder
    let registrationForm: RegistrationForm
    let archive: RoomArchive
    let sentLog: SentMessageLog

    /// Available resources of each user, by bare JID.
    var sessions: [String: Set<String>] = [:]
    /// Users logged into the foreign network, and the text of a failed login.
    var loginStates: [String: LoginState] = [:]
    /// Users whose login is under way, so a second presence does not start another.
    var loggingIn: Set<String> = []
    /// The server's hosts that granted roster access (XEP-0356): their users' contacts are pushed
    /// into rosters; elsewhere subscriptions stand in. Each host says so in its own message.
    var rosterPrivilegedHosts: Set<String> = []
    var nextID = 0
    /// See ``makeStanzaID()``.
    let stanzaIDPrefix = String(UInt64.random(in: .min ... .max), radix: 36) + "-"
    var nextStanzaNumber: UInt64 = 0
    /// Delivery reports that arrived before their send was recorded (a fast network can answer
    /// before `Bridge.send` returns); replayed once the record exists.
    var earlyDeliveries: [String: DeliveryOutcome] = [:]
    /// Recent sends by the network's message id, for delivery reports without a store read.
    var recentSends = RecentSends(capacity: 10_000)
    /// Contacts' presence as the bridge last reported it, by user and legacy address.
    var contactAvailability: [String: [String: ContactAvailability]] = [:]
    /// Registrations read so far (`nil` inside: known not to be registered).
    var registrationCache: [String: Registration?] = [:]
    /// Each user's contact addresses, once read: whether a sender is in the roster is asked for
    /// every incoming message.
    var contactCache: [String: Set<String>] = [:]
    /// Each user's contacts with settings of their own, once read: a connection asks for its
    /// server's settings as it opens, and most users have none.
    var configuredContacts: [String: Set<String>] = [:]
    /// Counts completed writes of contacts and their settings: a read during which one
    /// completed may have seen the store before it, so it leaves the caches for the next read
    /// to fill. (A write completed before a read began is in what it reads; one completed
    /// after the read updates the cache it filled.)
    var contactWrites = 0
    /// Recent stanzas' `from` (with the user it stands for, nil when not allowed here) and `to`,
    /// parsed; and recent contact JIDs' legacy addresses (see ``RecentResults``).
    var recentSenders = RecentResults<String, StanzaOrigin?>()
    var recentRecipients = RecentResults<String, JID?>()
    var recentLegacyAddresses = RecentResults<String, Result<String, AddressError>>()
    /// Rooms (XEP-0045) each user is in or joining.
    var rooms: [RoomState.Key: RoomState] = [:]
    /// Room lists fetched for paging, by user and network address.
    var roomLists: [RoomState.Key: (rooms: [RoomListing], fetched: ContinuousClock.Instant)] = [:]
    /// Where this actor runs (see ``ActorExecutor``).
    nonisolated let executor: ActorExecutor

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.unownedExecutor }

    /// - Parameter executor: where the gateway runs; the daemon gives the gateway and its bridge
    ///   the component link's event loop.
    public init(
        bridge: any Bridge, store: GatewayStore, sender: any StanzaSender, policy: GatewayPolicy, logger: Logger,
        executor: ActorExecutor = .own()
    ) {
        self.executor = executor
        self.bridge = bridge
        self.identity = bridge.identity
        self.store = store
        self.sender = sender
        self.policy = policy
        self.logger = logger
        self.outbox = DurableOutbox(bridge: bridge.identity.domain, store: store, sender: sender, logger: logger, executor: executor)
        self.archive = RoomArchive(store: store, policy: policy.history, logger: logger, executor: executor)
        self.sentLog = SentMessageLog(bridge: bridge.identity.domain, store: store, logger: logger, executor: executor)
        var fields = bridge.registrationFields
        if bridge.canStayConnected && !fields.isEmpty { fields.append(Self.stayConnectedField) }
        self.registrationForm = RegistrationForm(fields: fields, instructions: bridge.registrationInstructions)
        var identity = bridge.identity
        if !bridge.registrationFields.isEmpty {
            identity.extraFeatures += [Namespace.register, Namespace.gateway, Namespace.commands]
        }
        self.responder = CoreQueryResponder(identity: identity)
    }

    public var domain: String { identity.domain }

    /// The registration field the core adds for bridges that can keep a session while the user
    /// is offline; stored as ``Registration/staysConnected``, never passed to the bridge.
    static let stayConnectedField = RegistrationField(
        "stay_connected", label: "Stay connected while you are offline",
        description: "Keep your network connections when your last XMPP client goes offline; messages wait on your server",
        kind: .boolean, isRequired: false
    )

    /// Starts the bridge. Call once, before the first stanza.
    public func start() async {
        await bridge.start(events: self)
    }

    // MARK: - Link state

    /// The component link is (again) up: tell every registered user the gateway is here, ask
    /// for their presence, and send what waited.
    public func linkEstablished() async {
        rosterPrivilegedHosts.removeAll()
        let registrations = (try? await store.registrations(bridge: domain)) ?? []
        for registration in registrations {
            send(Presence(type: .available, from: domainJID, to: JID(string: registration.user)).element)
            send(Presence(type: .probe, from: domainJID, to: JID(string: registration.user)).element)
        }
        await outbox.linkEstablished()
    }

    public func linkLost() async {
        await outbox.linkLost()
        // Presence will be probed again on reconnect; until then nobody is known to be online.
        sessions.removeAll()
    }

    /// Graceful shutdown: users are told the gateway is going, logged out, and everything
    /// stored is given a bounded time to be acknowledged.
    public func shutDown() async {
        let registrations = (try? await store.registrations(bridge: domain)) ?? []
        for registration in registrations {
            send(Presence(type: .unavailable, from: domainJID, to: JID(string: registration.user), status: "The gateway is shutting down").element)
        }
        await bridge.stop()
        loginStates.removeAll()
        await archive.flush()
        await sentLog.flush()
        await outbox.waitUntilIdle()
    }

    // MARK: - Inbound stanzas

    /// Handles stanzas of one sender in order (what arrived together), in one hop to this actor.
    /// Output held for the batch (``OutputBatch``) is released every millisecond of handling,
    /// so a long batch does not hold back what its first stanzas wrote.
    public func handle(_ elements: [XMLElement]) async {
        if elements.count == 1 {
            await handle(elements[0])
            return
        }
        var lastRelease = ContinuousClock.now
        for element in elements {
            await handle(element)
            if let batch = OutputBatch.current, ContinuousClock.now - lastRelease > .milliseconds(1) {
                batch.release()
                lastRelease = .now
            }
        }
    }

    /// Routes one stanza addressed to the bridge's domain or a JID under it.
    public func handle(_ element: XMLElement) async {
        switch StanzaKind(rawValue: element.name) {
        case .iq:
            guard let iq = IQ(element), iq.isRequest else { return }
            await handleIQ(iq)
        case .message:
            if let message = Message(element) { await handleMessage(message) }
        case .presence:
            if let presence = Presence(element) { await handlePresence(presence) }
        case nil:
            logger.debug("ignoring <\(element.name)>")
        }
    }

    // MARK: - Helpers shared by the extensions

    var domainJID: JID? { JID(string: domain) }

    func send(_ element: XMLElement) {
        if !sender.send(element) {
            logger.error("the link's queue is full; a stanza was not sent", metadata: ["stanza": "\(element.name)"])
        }
    }

    func reply(_ iq: IQ, _ payload: XMLElement? = nil) {
        send(iq.result(payload).element)
    }

    func reply(_ iq: IQ, error: StanzaError) {
        if let reply = iq.errorReply(error) { send(reply) }
    }

    func makeID() -> String {
        nextID += 1
        return "cw-\(nextID)"
    }

    /// A stanza-id (XEP-0359) unique across restarts, so MAM can page by it: this process's random prefix and a
    /// counter (two random numbers per message cost two system calls).
    func makeStanzaID() -> String {
        nextStanzaNumber += 1
        return stanzaIDPrefix + String(nextStanzaNumber, radix: 36)
    }

    /// The JID of a legacy address on this bridge.
    func contactJID(_ address: String) -> JID? {
        try? JID(localpart: JIDEscaping.escape(address), domainpart: domain)
    }

    /// A stanza's sender, parsed, with the user it stands for.
    func sender(of element: XMLElement) -> StanzaOrigin? {
        guard let raw = element[attribute: "from"] else { return nil }
        return recentSenders.value(for: raw) { raw in
            JID(string: raw).map { StanzaOrigin(jid: $0, user: allowedUser($0)) }
        }
    }

    /// A stanza's recipient, parsed.
    func recipient(of element: XMLElement) -> JID? {
        guard let raw = element[attribute: "to"] else { return nil }
        return recentRecipients.value(for: raw) { JID(string: $0) }
    }

    /// The bare JID of a user, if the stanza came from a domain allowed to use the gateway.
    func allowedUser(_ from: JID?) -> String? {
        guard let from, policy.allowedDomains.contains(from.domainpart) else { return nil }
        return from.bare.description
    }

    /// The user's registration, from memory after the first read: every stanza needs it, and a
    /// store round trip per message costs more than the rest of the message. The cache is only
    /// changed where registrations are saved or deleted, all on this actor.
    func registration(of user: String) async -> Registration? {
        if let cached = registrationCache[user] { return cached }
        do {
            let writes = contactWrites
            let stored = try await store.user(bridge: domain, user: user)
            if registrationCache.count > 100_000 {
                registrationCache.removeAll()
                contactCache.removeAll()
                configuredContacts.removeAll()
            }
            registrationCache[user] = .some(stored?.registration)
            if let stored, contactWrites == writes {
                if contactCache[user] == nil { contactCache[user] = stored.contactAddresses }
                if configuredContacts[user] == nil { configuredContacts[user] = stored.configuredAddresses }
            }
            return stored?.registration
        } catch {
            logger.error("cannot read a registration: \(error)", metadata: ["user": "\(user)"])
            return nil
        }
    }

    func account(_ registration: Registration) -> BridgeAccount {
        BridgeAccount(user: registration.user, record: RegistrationRecord(
            legacyID: registration.legacyID, fields: registration.fields, secrets: registration.secrets
        ))
    }
}

/// Who sent a stanza: its `from`, parsed, and the user (bare JID) it stands for, nil when the
/// sender's domain may not use the gateway. A struct, not a tuple: the optional tuple was copied
/// through the runtime's tuple value witnesses on every message.
struct StanzaOrigin {
    let jid: JID
    let user: String?
}
