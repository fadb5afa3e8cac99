import XMPPCore

/// disco#info on rooms (joined or not) and disco#items on a network's address (IRC server JIDs)
/// listing its rooms, paged with XEP-0059 so clients' room browsers work on big networks.
extension Gateway {
    /// How long a fetched room list is reused for paging before the network is asked again.
    static let roomListLifetime: Duration = .seconds(300)

    func roomDisco(_ iq: IQ, room: String) async {
        var account: BridgeAccount?
        if let user = allowedUser(iq.from), let registration = await registration(of: user) { account = self.account(registration) }
        let info = await bridge.roomInfo(room, for: account)
        var query = XMLElement("query", namespace: Namespace.discoInfo)
        query.append(XMLElement("identity", ["category": "conference", "type": identity.gatewayType, "name": info.name]))
        var features = [
            Namespace.discoInfo, Namespace.muc,
            info.isPublic ? "muc_public" : "muc_hidden",
            info.isMembersOnly ? "muc_membersonly" : "muc_open",
            info.isPersistent ? "muc_persistent" : "muc_temporary",
            info.isModerated ? "muc_moderated" : "muc_unmoderated",
            info.isPasswordProtected ? "muc_passwordprotected" : "muc_unsecured",
            // Occupants' real JIDs are never shown (IRC shows hosts, not JIDs).
            "muc_semianonymous",
        ]
        if policy.history.enabled { features += [Namespace.mam, Namespace.stanzaID] }
        features.sort()
        for feature in features { query.append(XMLElement("feature", ["var": feature])) }
        var fields = [DataForm.Field(variable: "muc#roominfo_subject", label: "Subject", values: info.subject.map { [$0] } ?? [])]
        if let count = info.occupantCount {
            fields.append(DataForm.Field(variable: "muc#roominfo_occupants", label: "Number of occupants", values: [String(count)]))
        }
        query.append(DataForm.withFormType(Namespace.mucRoomInfo, type: .result, fields: fields).element)
        reply(iq, query)
    }

    /// disco#items on an address with rooms: the network's list, a page at a time.
    func roomList(_ iq: IQ, _ payload: XMLElement, at address: String) async {
        guard let user = allowedUser(iq.from), let registration = await registration(of: user) else {
            reply(iq, error: StanzaError(.registrationRequired, text: "Register with \(domain) to list rooms"))
            return
        }
        let key = RoomState.Key(user: user, room: address)
        let listings: [RoomListing]
        if let cached = roomLists[key], cached.fetched.duration(to: .now) < Self.roomListLifetime,
           payload.child("set", namespace: Namespace.rsm) != nil {
            listings = cached.rooms
        } else {
            if loginStates[user] != .online { await logIn(user) }
            do {
                listings = try await bridge.listRooms(at: address, for: account(registration))
                    .sorted { ($0.occupantCount ?? 0, $1.name) > ($1.occupantCount ?? 0, $0.name) }
            } catch {
                reply(iq, error: StanzaError(error.condition, text: error.text))
                return
            }
            roomLists[key] = (rooms: listings, fetched: .now)
        }
        let page = ResultSetPage(request: payload.child("set", namespace: Namespace.rsm), ids: listings.map(\.address))
        var query = XMLElement("query", namespace: Namespace.discoItems)
        for listing in listings[page.range] {
            var name = listing.name
            if let count = listing.occupantCount { name += " (\(count))" }
            query.append(XMLElement("item", ["jid": contactJID(listing.address)?.description ?? listing.address, "name": name]))
        }
        if let set = page.element { query.append(set) }
        reply(iq, query)
    }
}

