/// One user's view of one room: which of their resources are in it, and who else is.
struct RoomState {
    struct Key: Hashable {
        var user: String
        var room: String
    }

    /// Resources (full JIDs) in the room, with the nick each asked for.
    var resources: [String: String] = [:]
    /// Resources waiting for the network to finish joining.
    var pending: [String: String] = [:]
    /// Whether the network has confirmed the join.
    var joined = false
    /// The user's nick in the room, as the network has it.
    var nick = ""
    /// Everyone in the room (the user included), by nick.
    var occupants: [String: RoomOccupant] = [:]
    var subject: RoomSubject?
    /// How much history each joining resource asked for (`<history maxstanzas/>`).
    var historyLimits: [String: Int] = [:]
    /// Senders' occupant JIDs as text, by nick, made once each: every message in the room needs
    /// one, and making a JID normalizes and checks each part. A cache, cleared when it grows.
    var occupantJIDs: [String: String] = [:]
    /// The room's own JID as text, made on first use for the same reason.
    var roomJID: String?

    var isEmpty: Bool { resources.isEmpty && pending.isEmpty }
}
