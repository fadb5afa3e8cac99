#if canImport(FoundationEssentials)
import FoundationEssentials  // not Foundation: its ICU clashes with libxml2's in modules that see CLibXML2
#else
import Foundation
#endif
import XMPPCore

/// Room history: every room message is archived per user (batched, see ``RoomArchive``), replayed
/// on join with delay stamps (XEP-0045 §7.2.15, XEP-0203) and served through MAM (XEP-0313)
/// with RSM paging on the room's JID.
extension Gateway {
    /// Archives a message the user sees in a room; returns the stanza-id it goes out with.
    /// Synchronous, so the archive's order is the room's order.
    func archiveRoomMessage(user: String, room: String, nick: String, body: String) -> String {
        let stanzaID = makeStanzaID()
        guard policy.history.enabled else { return stanzaID }
        archive.append(ArchivedMessage(bridge: domain, user: user, room: room, stanzaID: stanzaID, nick: nick, body: body, at: Date()))
        return stanzaID
    }

    /// `by` is the room's JID.
    func stanzaIDElement(_ id: String, by: String) -> XMLElement {
        XMLElement("stanza-id", namespace: Namespace.stanzaID, ["id": id, "by": by])
    }

    /// The last messages of the room, to a resource that just joined.
    func sendRoomHistory(room: String, user: String, to resource: String, limit requested: Int?) async {
        let limit = min(requested ?? policy.history.onJoin, policy.history.onJoin)
        guard policy.history.enabled, limit > 0 else { return }
        let page: ArchivePage
        do {
            page = try await archive.page(bridge: domain, user: user, room: room, query: ArchiveQuery(before: "", limit: limit))
        } catch {
            logger.error("cannot read room history: \(error)", metadata: ["room": "\(room)"])
            return
        }
        for archived in page.messages {
            send(historical(archived, to: resource).element)
        }
    }

    private func historical(_ archived: ArchivedMessage, to resource: String) -> Message {
        var message = Message(type: .groupchat, from: occupantJID(archived.room, archived.nick), to: JID(string: resource), id: archived.stanzaID, body: archived.body)
        message.element.append(XMLElement("delay", namespace: Namespace.delay, ["stamp": archived.at.formatted(.iso8601), "from": contactJID(archived.room)?.description]))
        message.element.append(stanzaIDElement(archived.stanzaID, by: contactJID(archived.room)?.description ?? domain))
        return message
    }

    /// XEP-0313 on a room's JID: the form (get), or a query (set) answered with forwarded
    /// results and a `<fin/>` carrying the RSM page.
    func handleMAM(_ iq: IQ, _ payload: XMLElement, room: String) async {
        guard let user = allowedUser(iq.from), await registration(of: user) != nil else {
            reply(iq, error: StanzaError(.registrationRequired, text: "Register with \(domain) first"))
            return
        }
        guard policy.history.enabled else {
            reply(iq, error: StanzaError(.featureNotImplemented, text: "This gateway keeps no room history ([history] enabled = false)"))
            return
        }
        if iq.type == .get {
            reply(iq, XMLElement("query", namespace: Namespace.mam, children: [.element(DataForm.withFormType(Namespace.mam, fields: [
                DataForm.Field(variable: "start", type: .textSingle), DataForm.Field(variable: "end", type: .textSingle),
            ]).element)]))
            return
        }
        let form = payload.child("x", namespace: Namespace.dataForms).flatMap { try? DataForm(element: $0) }
        var query = ArchiveQuery(limit: 50)
        for (name, keyPath) in [("start", \ArchiveQuery.start), ("end", \ArchiveQuery.end)] {
            guard let text = form?.value(of: name), !text.isEmpty else { continue }
            let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
            guard let date = (try? Date(text, strategy: .iso8601)) ?? (try? Date(text, strategy: fractional)) else {
                reply(iq, error: StanzaError(.badRequest, text: "'\(name)' must be an XEP-0082 date and time, like 2026-11-21T08:00:00Z"))
                return
            }
            query[keyPath: keyPath] = date
        }
        if let with = form?.value(of: "with"), !with.isEmpty {
            reply(iq, error: StanzaError(.featureNotImplemented, text: "Filtering a room's archive by 'with' is not supported"))
            return
        }
        let set = payload.child("set", namespace: Namespace.rsm)
        if let max = set?.childText("max").flatMap(Int.init) { query.limit = Swift.max(0, Swift.min(max, 250)) }
        query.after = set?.childText("after")
        if let before = set?.child("before") { query.before = before.text }
        let page: ArchivePage
        do {
            page = try await archive.page(bridge: domain, user: user, room: room, query: query)
        } catch {
            reply(iq, error: StanzaError(.internalServerError, text: "The archive could not be read"))
            return
        }
        let queryID = payload[attribute: "queryid"]
        for archived in page.messages {
            var result = XMLElement("result", namespace: Namespace.mam, ["queryid": queryID, "id": archived.stanzaID])
            var forwarded = XMLElement("forwarded", namespace: Namespace.forward)
            forwarded.append(XMLElement("delay", namespace: Namespace.delay, ["stamp": archived.at.formatted(.iso8601)]))
            var inner = Message(type: .groupchat, from: occupantJID(archived.room, archived.nick), to: nil, id: archived.stanzaID, body: archived.body).element
            inner.namespace = Namespace.client
            forwarded.append(inner)
            result.append(forwarded)
            var carrier = Message(type: .normal, from: contactJID(room), to: iq.from, id: makeID())
            carrier.element.append(result)
            send(carrier.element)
        }
        var rsm = XMLElement("set", namespace: Namespace.rsm)
        if let first = page.messages.first, let last = page.messages.last {
            rsm.append(.text("first", first.stanzaID))
            rsm.append(.text("last", last.stanzaID))
        }
        rsm.append(.text("count", String(page.count)))
        var fin = XMLElement("fin", namespace: Namespace.mam, ["complete": page.complete ? "true" : nil])
        fin.append(rsm)
        reply(iq, fin)
    }
}
