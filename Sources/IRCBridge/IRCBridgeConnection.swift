import GatewayCore

/// One user's connection to one IRC server, as the ``IRCBridge`` actor keeps it.
///
/// Owned and touched only by the bridge actor (it is not `Sendable`). A connection is used
/// once: when its session ends it is dropped, and the next message opens a new one.
final class IRCBridgeConnection {
    enum State: Equatable {
        /// Resolving the host, connecting and registering (until end of MOTD).
        case connecting
        /// Registered: lines can be sent.
        case connected
        /// Failed or logged out; no longer in the bridge's table.
        case closed
    }

    struct Key: Hashable, Sendable {
        /// The user's bare JID.
        var user: String
        /// The server as addressed, lower-cased.
        var server: String
    }

    let id: UInt64
    let key: Key
    let session: IRCSession
    /// The nick asked for at registration.
    let requestedNick: String
    /// Our nick as the server knows it (from 001 and our own NICK changes).
    var nick: String
    var state: State = .connecting
    /// Senders waiting for registration to finish.
    var waiters: [CheckedContinuation<Result<Void, BridgeError>, Never>] = []
    /// The pace of outgoing lines, and the lines waiting for it.
    var bucket: TokenBucket
    var outbox: [String] = []
    var draining = false
    /// The legacy id of the last message sent to each target (case-folded), so a 401
    /// ERR_NOSUCHNICK can be reported against it.
    var lastSent: [String: String] = [:]
    /// Nicks (case-folded) the user has a private conversation with, so their nick changes
    /// are followed.
    var conversations: Set<String> = []
    /// Alternative nicks tried after 433 ERR_NICKNAMEINUSE.
    var nickAttempts = 0
    /// Fails the connection if registration takes too long (DNS included).
    var timer: OneShotTimer?
    /// The TLS link libircclient talks through, when the bridge uses TLS.
    var relay: IRCTLSRelay?
    /// True once TCP reached the server: a failure after that is not "unreachable".
    var reachedServer = false
    /// Holds one of the server's connect turns, until the server's first line.
    var holdsConnectTurn = false
    /// Lines to send once registered (NickServ, the user's commands).
    var afterConnect: [String] = []
    /// What the server announced (005 RPL_ISUPPORT).
    var isupport = ISupport() {
        didSet { caseMapping = isupport.caseMapping }
    }
    /// Who of the user's contacts on this server is online.
    var presence = IRCPresenceTracker()
    /// MOTD lines being collected (375 … 376), sent to the user as one message.
    var motd: [String]?
    /// WHOIS replies being collected, by case-folded nick.
    var whois: [String: IRCWhoisReply] = [:]
    /// Until when unhandled numerics are shown to the user: they answer a raw command.
    var rawRepliesUntil: ContinuousClock.Instant?

    /// A nick change the user asked for from a room, until the server answers.
    var pendingNick: (nick: String, room: String)?
    /// A LIST being collected, and who waits for it.
    var roomList: IRCRoomListRequest?
    /// Channels joined or being joined, by case-folded name.
    var channels: [String: IRCChannel] = [:]
    /// PARTs the bridge sent and the server has not echoed yet: their echo is no news, even if
    /// the channel is being joined again meanwhile.
    var partsInFlight: [String: Int] = [:]

    /// The server's case mapping, kept apart from ``isupport``: every nick and channel name is
    /// folded with it, and reading it from the tokens each time was a dictionary lookup and a parse.
    private(set) var caseMapping = ISupport().caseMapping

    init(id: UInt64, key: Key, session: IRCSession, nick: String, bucket: TokenBucket) {
        self.id = id
        self.key = key
        self.session = session
        self.requestedNick = nick
        self.nick = nick
        self.bucket = bucket
    }
}

/// A LIST being collected (322 … 323).
struct IRCRoomListRequest {
    var rooms: [RoomListing] = []
    var waiters: [CheckedContinuation<Result<[RoomListing], BridgeError>, Never>] = []
    /// Fails the request if the server does not finish it in time; cancelled when it does.
    var timer: OneShotTimer?
}
