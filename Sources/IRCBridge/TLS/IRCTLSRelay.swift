// TLS for libircclient, which Debian builds without it: a relay per IRC connection.
//
//   libircclient ──TCP──> 127.0.0.1:localPort (relay) ══TLS══> server:port
//
// `open` first connects to the real server and completes the TLS handshake (SNI and, with
// `.full`, chain and host name verification) before the loopback listener even exists, so a
// bad certificate fails the open with `IRCTLSError.verificationFailed` and libircclient never
// has anything to connect to: there is no plaintext fallback. Then the relay listens on
// 127.0.0.1:0 and accepts exactly one connection whose peer socket belongs to this process
// (`LoopbackPeerCheck`, /proc/self/net/tcp + /proc/self/fd); any other peer is closed at once
// and logged, and the relay keeps waiting, up to `acceptTimeout`. After the one accept the
// listener is closed and bytes are piped both ways (`RelayGlueHandler`); when either side
// closes, both do.

import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS  // TLSUserEvent; a dependency of NIOSSL
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

public final class IRCTLSRelay: Sendable {
    public enum TrustRoots: Sendable, Hashable {
        /// The system's trust store.
        case `default`
        /// A PEM file of CA certificates (for a private network's CA).
        case pemFile(String)
    }

    public enum Verification: Sendable, Hashable {
        /// Verify the chain against `trustRoots` and that the certificate names `serverName`.
        case full(trustRoots: TrustRoots)
        /// No verification at all: an admin's explicit opt-out for one server.
        case none
    }

    /// The port libircclient must connect to, on 127.0.0.1.
    public let localPort: Int
    public let serverName: String
    /// Completes when the relay has shut down (the TLS connection is closed).
    public let closeFuture: EventLoopFuture<Void>

    private let tlsChannel: Channel
    private let listener: Channel
    private let state: Mutex<State>

    private struct State {
        var peer: Channel?
        var rejectedPeers = 0
        var closed = false
    }

    /// Connections to `localPort` that were refused because they did not come from this process.
    public var rejectedPeerCount: Int { state.withLock { $0.rejectedPeers } }
    /// True once libircclient's connection has been accepted.
    public var isPaired: Bool { state.withLock { $0.peer != nil } }

    private init(localPort: Int, serverName: String, tlsChannel: Channel, listener: Channel) {
        self.localPort = localPort
        self.serverName = serverName
        self.tlsChannel = tlsChannel
        self.listener = listener
        self.closeFuture = tlsChannel.closeFuture
        self.state = Mutex(State())
    }

    deinit {
        tlsChannel.close(promise: nil)
        listener.close(promise: nil)
    }

    /// Closes the listener, the loopback connection and the TLS connection.
    public func close() {
        let peer = state.withLock { state -> Channel? in
            state.closed = true
            return state.peer
        }
        listener.close(promise: nil)
        peer?.close(promise: nil)
        tlsChannel.close(promise: nil)
    }

    /// Connects to `host:port` with TLS, completes the handshake, then listens on 127.0.0.1.
    ///
    /// - Parameters:
    ///   - host: what to connect to (an IP literal or a name NIO resolves).
    ///   - serverName: the name sent as SNI and verified against the certificate (the server as
    ///     the user addressed it). An IP literal is verified against the certificate's IP SANs
    ///     and sends no SNI.
    ///   - acceptTimeout: how long to wait for libircclient to connect before shutting down.
    ///   - log: receives one line per notable event (a refused peer, the accept timeout).
    public static func open(
        host: String, port: Int, serverName: String, verification: Verification,
        group: EventLoopGroup,
        handshakeTimeout: TimeAmount = .seconds(15),
        acceptTimeout: TimeAmount = .seconds(30),
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws(IRCTLSError) -> IRCTLSRelay {
        let context = try makeContext(verification)
        let sni: String? = isIPLiteral(serverName) ? nil : serverName
        let loop = group.next()
        let handshake = loop.makePromise(of: Void.self)

        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(handshakeTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                do {
                    let tls = try NIOSSLClientHandler(context: context, serverHostname: sni)
                    try channel.pipeline.syncOperations.addHandlers([
                        tls,
                        HandshakeWatcher(promise: handshake, timeout: handshakeTimeout,
                                         requiredDNSName: verification == .none ? nil : sni),
                        RelayGlueHandler(),
                    ])
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }

        let tlsChannel: Channel
        do {
            tlsChannel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            handshake.fail(error)
            throw .connectFailed("could not connect to \(host) port \(port): \(error)")
        }
        do {
            try await handshake.futureResult.get()
        } catch {
            tlsChannel.close(promise: nil)
            throw classify(error, serverName: serverName, host: host, port: port, verification: verification)
        }

        // Only now, with a verified TLS session, does anything listen for libircclient.
        let pairing = PairingState()
        let listener: Channel
        do {
            listener = try await ServerBootstrap(group: loop)
                .serverChannelOption(.backlog, value: 4)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { child in
                    pairing.accept(child, tlsChannel: tlsChannel, log: log)
                }
                .bind(host: "127.0.0.1", port: 0).get()
        } catch {
            tlsChannel.close(promise: nil)
            throw .listenFailed("could not listen on 127.0.0.1: \(error)")
        }
        guard let localPort = listener.localAddress?.port else {
            listener.close(promise: nil)
            tlsChannel.close(promise: nil)
            throw .listenFailed("the listener has no local port")
        }
        let relay = IRCTLSRelay(localPort: localPort, serverName: serverName,
                                tlsChannel: tlsChannel, listener: listener)
        pairing.relay = RelayReference(relay)

        // Teardown: the TLS side closing ends everything; the accept is bounded in time.
        tlsChannel.closeFuture.whenComplete { _ in
            listener.close(promise: nil)
            relay.state.withLock { $0.peer }?.close(promise: nil)
        }
        loop.scheduleTask(in: acceptTimeout) {
            if !relay.isPaired {
                log("TLS relay for \(serverName): nobody connected within \(acceptTimeout.nanoseconds / 1_000_000_000) s; closing")
                relay.close()
            }
        }
        return relay
    }

    // MARK: Internals

    fileprivate func didAccept(_ child: Channel) -> Bool {
        state.withLock { state in
            guard !state.closed, state.peer == nil else { return false }
            state.peer = child
            return true
        }
    }

    fileprivate func didReject() {
        state.withLock { $0.rejectedPeers += 1 }
    }

    private static func makeContext(_ verification: Verification) throws(IRCTLSError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        switch verification {
        case .none:
            configuration.certificateVerification = .none
        case .full(let roots):
            configuration.certificateVerification = .fullVerification
            switch roots {
            case .default:
                configuration.trustRoots = .default
            case .pemFile(let path):
                guard access(path, R_OK) == 0 else {
                    throw .configuration("cannot read the trust roots file \(path)")
                }
                do {
                    configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
                } catch {
                    throw .configuration("cannot load the trust roots file \(path): \(error)")
                }
            }
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw .configuration("cannot create the TLS context: \(error)")
        }
    }

    private static func classify(_ error: any Error, serverName: String, host: String, port: Int,
                                 verification: Verification) -> IRCTLSError {
        if error is NameMismatch || (error as? NIOSSLExtraError) == .failedToValidateHostname {
            return .verificationFailed(
                "the certificate presented by \(host) port \(port) is not valid for the name \(serverName)")
        }
        let text = "\(error)"
        if case .full = verification, text.contains("CERTIFICATE_VERIFY_FAILED") {
            return .verificationFailed(
                "the certificate for \(serverName) is not trusted: it does not chain to a trusted root, "
                + "or is expired or not yet valid (\(text))")
        }
        if let timeout = error as? HandshakeTimeout {
            return .handshakeFailed("no TLS handshake with \(host) port \(port) within \(timeout.seconds) s")
        }
        return .handshakeFailed("TLS handshake with \(host) port \(port) failed: \(text)")
    }

    private static func isIPLiteral(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }
}

/// Lets the listener reach the relay once it exists. The listener is bound first, so a
/// connection may arrive before the relay is set (not libircclient's: it does not know the
/// port yet); such a connection is refused and the relay keeps listening.
private final class RelayReference: Sendable {
    let relay: IRCTLSRelay
    init(_ relay: IRCTLSRelay) { self.relay = relay }
}

/// The listener's side of the pairing; used from the event loop (child initializers).
private final class PairingState: Sendable {
    private let box = Mutex<RelayReference?>(nil)

    var relay: RelayReference? {
        get { box.withLock { $0 } }
        set { box.withLock { $0 = newValue } }
    }

    func accept(_ child: Channel, tlsChannel: Channel, log: @Sendable (String) -> Void) -> EventLoopFuture<Void> {
        let loop = child.eventLoop
        guard let relay = relay?.relay else {
            log("TLS relay: refused a connection that arrived before the relay was ready")
            return loop.makeFailedFuture(ChannelError.inputClosed)
        }
        let peerPort = child.remoteAddress?.port ?? -1
        let listenerPort = relay.localPort
        guard peerPort > 0, LoopbackPeerCheck.isOwnSocket(peerPort: peerPort, listenerPort: listenerPort) else {
            relay.didReject()
            log("TLS relay for \(relay.serverName): refused a connection from 127.0.0.1 port \(peerPort), "
                + "which is not a socket of this process")
            return loop.makeFailedFuture(ChannelError.inputClosed)
        }
        guard relay.didAccept(child) else {
            relay.didReject()
            log("TLS relay for \(relay.serverName): refused a second connection (port \(peerPort))")
            return loop.makeFailedFuture(ChannelError.inputClosed)
        }
        // Same event loop as the TLS channel (the listener was bootstrapped on it).
        loop.preconditionInEventLoop()
        precondition(tlsChannel.eventLoop === loop)
        do {
            let local = RelayGlueHandler()
            try child.pipeline.syncOperations.addHandler(local)
            let remote = try tlsChannel.pipeline.syncOperations.handler(type: RelayGlueHandler.self)
            guard tlsChannel.isActive else {
                log("TLS relay for \(relay.serverName): the TLS connection closed before libircclient connected")
                return loop.makeFailedFuture(ChannelError.ioOnClosedChannel)
            }
            RelayGlueHandler.pair(local, remote)
        } catch {
            log("TLS relay for \(relay.serverName): could not pair the connections: \(error)")
            tlsChannel.close(promise: nil)
            return loop.makeFailedFuture(error)
        }
        child.closeFuture.whenComplete { _ in tlsChannel.close(promise: nil) }
        // Stop listening once the child is set up (closing the parent inside its own accept
        // path would disturb the child's registration).
        let parent = child.parent
        loop.execute { parent?.close(promise: nil) }
        return loop.makeSucceededVoidFuture()
    }
}

struct HandshakeTimeout: Error {
    var seconds: Int64
}

/// The certificate has no DNS name matching the server name.
struct NameMismatch: Error {}

/// NIOSSL also accepts a certificate whose IP SAN matches the connected address even when a
/// host name was asked for; for a name we require a matching DNS SAN (leftmost-label wildcard
/// allowed), so a certificate for the address DNS pointed us to is not enough.
func certificate(_ certificate: NIOSSLCertificate, hasDNSName name: String) -> Bool {
    let wanted = Array((name.hasSuffix(".") ? String(name.dropLast()) : name).lowercased().utf8)
    for san in certificate._subjectAlternativeNames() where san.nameType == .dnsName {
        let pattern = Array(String(decoding: Array(san.contents), as: UTF8.self).lowercased().utf8)
        if pattern == wanted { return true }
        // "*.example.org" matches exactly one leftmost label.
        if pattern.count > 2, pattern[0] == UInt8(ascii: "*"), pattern[1] == UInt8(ascii: "."),
           let dot = wanted.firstIndex(of: UInt8(ascii: ".")), dot > 0,
           Array(wanted[dot...]) == Array(pattern[1...]) {
            return true
        }
    }
    return false
}

/// Reports the end of the TLS handshake (or its failure) once.
private final class HandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<Void>
    private let timeout: TimeAmount
    private let requiredDNSName: String?
    private var done = false
    private var timer: Scheduled<Void>?

    init(promise: EventLoopPromise<Void>, timeout: TimeAmount, requiredDNSName: String?) {
        self.promise = promise
        self.timeout = timeout
        self.requiredDNSName = requiredDNSName
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        let promise = promise
        let seconds = timeout.nanoseconds / 1_000_000_000
        timer = context.eventLoop.scheduleTask(in: timeout) {
            promise.fail(HandshakeTimeout(seconds: seconds))
            channel.close(promise: nil)
        }
    }

    private func finish(_ result: Result<Void, any Error>) {
        guard !done else { return }
        done = true
        timer?.cancel()
        promise.completeWith(result)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            if let name = requiredDNSName {
                let peer = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate
                guard let peer, certificate(peer, hasDNSName: name) else {
                    finish(.failure(NameMismatch()))
                    context.close(promise: nil)
                    return
                }
            }
            finish(.success(()))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.eof))
        context.fireChannelInactive()
    }
}
