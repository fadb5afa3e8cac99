import ComponentLink
import GatewayCore
import Logging
import ServiceLifecycle
import XMPPCore

/// Runs one bridge instance: feeds what its component link reports into its ``Gateway``.
///
/// Stanzas from one user are handled in order; different users' stanzas run side by side (see
/// ``StanzaLanes``). It stops on graceful shutdown before its link does (the group stops
/// services in reverse order), so the gateway's last words — unavailable presences,
/// acknowledged messages — still leave through the link.
struct BridgeService: Service {
    let bridge: BridgeConfiguration
    let link: ComponentLink
    let gateway: Gateway
    let logger: Logger

    func run() async {
        await gateway.start()
        let lanes = StanzaLanes()
        let gateway = self.gateway
        // On graceful shutdown the link stops reporting, which ends the loop; the lanes finish
        // what they hold. (Not `cancelOnGracefulShutdown()`: its merge cost more per stanza
        // than handling some stanzas.)
        // Stanzas are handled on the link's event loop (see EventLoopTaskExecutor): one thread
        // reads, handles and writes them, as long as the gateway and bridge are free to run there.
        let executor = EventLoopTaskExecutor(link.eventLoop)
        await withGracefulShutdownHandler {
            await withTaskExecutorPreference(executor) {
                await withDiscardingTaskGroup { group in
                    for await event in link.events {
                        switch event {
                        case .established:
                            await gateway.linkEstablished()
                        case .stanzas(let elements):
                            for (lane, first) in lanes.enqueue(elements) {
                                group.addTask {
                                    await lanes.drain(lane, startingWith: first) { await gateway.handle($0) }
                                }
                            }
                        case .down(let failure):
                            logger.debug("bridge waiting for its link", metadata: ["reason": "\(failure.map { "\($0)" } ?? "closed")"])
                            await gateway.linkLost()
                        }
                    }
                }
            }
        } onGracefulShutdown: { [link] in
            link.stopReportingEvents()
        }
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
