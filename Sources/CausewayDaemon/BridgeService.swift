import ComponentLink
import GatewayCore
import Logging
import ServiceLifecycle
import XMPPCore

/// Runs one bridge instance: takes what its component link reports and routes each stanza.
/// It ends when the link's event stream ends, after the link's graceful shutdown.
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
        for await event in link.events {
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
