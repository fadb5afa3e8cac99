import Logging
import XMPPCore

/// The one entry point for stanzas arriving on a bridge domain: answers the core queries and
/// (as bridges grow) hands the rest to the bridge. Replies leave through the bridge's sender.
public struct BridgeRouter: Sendable {
    public let responder: CoreQueryResponder
    private let sender: any StanzaSender
    private let logger: Logger

    public init(identity: BridgeIdentity, sender: any StanzaSender, logger: Logger) {
        self.responder = CoreQueryResponder(identity: identity)
        self.sender = sender
        self.logger = logger
    }

    /// Routes one inbound stanza.
    public func route(_ element: XMLElement) {
        switch StanzaKind(rawValue: element.name) {
        case .iq:
            if let reply = responder.answer(element) {
                sender.send(reply)
            }
        case .message, .presence:
            // Bridges handle these; the core-only kind has nothing to do with them.
            logger.trace("ignoring \(element.name)", metadata: ["from": "\(element[attribute: "from"] ?? "")"])
        case nil:
            logger.debug("ignoring unknown top-level element <\(element.name)>")
        }
    }
}
