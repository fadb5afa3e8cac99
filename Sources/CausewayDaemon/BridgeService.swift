import ComponentLink
import GatewayCore
import Logging
import ServiceLifecycle
import XMPPCore

/// Runs one bridge instance: takes what its component link reports and routes each stanza.
/// It stops on graceful shutdown, before its link does (the group stops services in reverse
/// order), so whatever it sends on the way out still leaves through the link.
struct BridgeService: Service {
    let bridge: BridgeConfiguration
    let link: ComponentLink
    let router: BridgeRouter
    let logger: Logger

    init(bridge: BridgeConfiguration, link: ComponentLink, logger: Logger) {
        self.bridge = bridge
        self.link = link
        self.logger = logger
        self.router = BridgeRouter(identity: bridge.identity, sender: LinkStanzaSender(link: link), logger: logger)
    }

    func run() async {
        for await event in link.events.cancelOnGracefulShutdown() {
            switch event {
            case .established:
                logger.debug("bridge ready")
            case .stanza(let element):
                router.route(element)
            case .down(let failure):
                logger.debug("bridge waiting for its link", metadata: ["reason": "\(failure.map { "\($0)" } ?? "closed")"])
            }
        }
    }
}

/// Hands the gateway core's outbound stanzas to a component link.
struct LinkStanzaSender: StanzaSender {
    let link: ComponentLink

    func send(_ element: XMLElement) -> Bool {
        link.send(element)
    }
}

extension BridgeService: CustomStringConvertible {
    /// How service-lifecycle names this service in its logs; never shows the secret.
    var description: String { "BridgeService(\(bridge.name), \(bridge.kind.name) on \(bridge.domain))" }
}
