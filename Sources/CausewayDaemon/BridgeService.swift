import ComponentLink
import GatewayCore
import Logging
import ServiceLifecycle
import XMPPCore

/// Runs one bridge instance: feeds what its component link reports into its ``Gateway``.
///
/// Stanzas from one user are handled in order; different users' stanzas run side by side, so
/// a slow foreign network for one user does not hold up the others. It stops on graceful
/// shutdown before its link does (the group stops services in reverse order), so the gateway's
/// last words — unavailable presences, acknowledged messages — still leave through the link.
struct BridgeService: Service {
    let bridge: BridgeConfiguration
    let link: ComponentLink
    let gateway: Gateway
    let logger: Logger

    func run() async {
        await gateway.start()
        var tails: [String: Task<Void, Never>] = [:]
        for await event in link.events.cancelOnGracefulShutdown() {
            switch event {
            case .established:
                await gateway.linkEstablished()
            case .stanza(let element):
                let key = element[attribute: "from"].flatMap { try? JID($0).bare.description } ?? ""
                let previous = tails[key]
                let gateway = self.gateway
                tails[key] = Task {
                    await previous?.value
                    await gateway.handle(element)
                }
                if tails.count > 4096 {
                    // Finished lanes pile up with many distinct senders: settle them all, rarely.
                    for task in tails.values { await task.value }
                    tails.removeAll()
                }
            case .down(let failure):
                logger.debug("bridge waiting for its link", metadata: ["reason": "\(failure.map { "\($0)" } ?? "closed")"])
                await gateway.linkLost()
            }
        }
        for task in tails.values { await task.value }
        await gateway.shutDown()
    }
}

extension BridgeService: CustomStringConvertible {
    /// How service-lifecycle names this service in its logs; never shows the secret.
    var description: String { "BridgeService(\(bridge.name), \(bridge.kind.name) on \(bridge.domain))" }
}

/// Hands the gateway core's outbound stanzas to a component link.
struct LinkStanzaSender: StanzaSender {
    let link: ComponentLink

    func send(_ element: XMLElement) -> Bool {
        link.send(element)
    }

    func sendAcknowledged(_ element: XMLElement, onAcknowledged: @escaping @Sendable () -> Void) -> Bool {
        link.sendAcknowledged(element, onAcknowledged: onAcknowledged)
    }
}
