import XMPPCore

extension Gateway {
    /// Room history on join (XEP-0045 §7.2.15), from the user's archive of the room.
    func sendRoomHistory(room: String, user: String, to resource: String) async {}
}
