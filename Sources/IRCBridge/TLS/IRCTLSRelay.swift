// TLS, and SASL, for libircclient, which Debian builds without either: a relay per IRC
// connection.
//
//   libircclient ──TCP──> 127.0.0.1:localPort (relay) ══TLS or TCP══> server:port
//
// `open` first connects to the real server and, for `.tls`, completes the handshake (SNI and,
// with `.full`, chain and host name verification) before the loopback listener even exists, so
// a bad certificate fails the open with `IRCTLSError.verificationFailed` and libircclient never
// has anything to connect to: there is no plaintext fallback. With SASL credentials the relay
// then authenticates on the upstream itself (`SASLPreludeHandler`, CAP LS / REQ / AUTHENTICATE
// PLAIN / CAP END) — libircclient knows neither CAP nor SASL, and a failed login must fail the
// open rather than leave a half-registered connection. Only then does the relay listen on
// 127.0.0.1:0 and accept exactly one connection whose peer socket belongs to this process
// (`LoopbackPeerCheck`, /proc/self/net/tcp + /proc/self/fd); any other peer is closed at once
// and logged, and the relay keeps waiting, up to `acceptTimeout`. After the one accept the
// listener is closed and bytes are piped both ways (`RelayGlueHandler`), starting with whatever
// the server said before pairing; when either side closes, both do.

import NIOCore
import NIOPosix
import NIOSSL
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

    /// How the relay reaches the server.
    public enum Transport: Sendable, Hashable {
        /// Plain TCP: the relay is only a pipe (used for plain servers so the relay can do SASL).
        case plain
        /// TLS, verified as `Verification` says, before anything else happens.
        case tls(Verification)
    }

    /// What became of SASL during `open`.
    public enum SASLOutcome: Sendable, Hashable {
        /// No credentials were given; the relay did not speak CAP at all.
        case notRequested
        /// The server accepted the credentials (903) and the relay sent `CAP END`.
        case succeeded
        /// The server does not offer SASL PLAIN (no `sasl` capability, CAP NAK, or no CAP at
        /// all): the connection continues unauthenticated, and the bridge decides what to tell
        /// the user.
        case notOffered
    }

    /// The port libircclient must connect to, on 127.0.0.1.
    public let localPort: Int
    public let serverName: String
    /// What became of SASL: `.notRequested` without credentials.
    public let saslOutcome: SASLOutcome
    /// Completes when the relay has shut down (the upstream connection is closed).
    public let closeFuture: EventLoopFuture<Void>

    private let upstream: Channel
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

    private init(localPort: Int, serverName: String, saslOutcome: SASLOutcome, upstream: Channel, listener: Channel) {
        self.localPort = localPort
        self.serverName = serverName
        self.saslOutcome = saslOutcome
        self.upstream = upstream
        self.listener = listener
        self.closeFuture = upstream.closeFuture
        self.state = Mutex(State())
    }

    deinit {
        upstream.close(promise: nil)
        listener.close(promise: nil)
    }

    /// Closes the listener, the loopback connection and the upstream connection.
    public func close() {
        let peer = state.withLock { state -> Channel? in
            state.closed = true
            return state.peer
        }
        listener.close(promise: nil)
        peer?.close(promise: nil)
        upstream.close(promise: nil)
    }

    /// Connects to `host:port` with TLS, completes the handshake, then listens on 127.0.0.1.
    /// The same as `open(host:port:serverName:transport: .tls(verification), sasl: nil, ...)`.
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
        try await open(host: host, port: port, serverName: serverName, transport: .tls(verification), sasl: nil,
                       group: group, handshakeTimeout: handshakeTimeout, acceptTimeout: acceptTimeout, log: log)
    }

    /// Connects to `host:port` over `transport`, authenticates with SASL PLAIN if `sasl` is
    /// given, then listens on 127.0.0.1 for libircclient.
    ///
    /// With credentials, the open fails with `.saslFailed` (the server's text, for the user) or
    /// `.saslTimedOut`, and the upstream is closed; a server that does not offer PLAIN is not
    /// an error (`saslOutcome == .notOffered`). Credentials containing CR, LF or NUL fail with
    /// `.invalidCredentials` before anything connects.
    ///
    /// - Parameters:
    ///   - serverName: for `.tls`, the name sent as SNI and verified against the certificate;
    ///     for both, the name used in log lines.
    ///   - saslTimeout: how long the whole SASL exchange may take, from `CAP LS` to `CAP END`.
    ///   - handshakeTimeout: bounds the TCP connect and the TLS handshake.
    ///   - acceptTimeout: how long to wait for libircclient to connect before shutting down.
    ///   - log: receives one line per notable event (a refused peer, the accept timeout).
    public static func open(
        host: String, port: Int, serverName: String, transport: Transport,
        sasl: SASLCredentials?, saslTimeout: Duration = .seconds(15),
        group: EventLoopGroup,
        handshakeTimeout: TimeAmount = .seconds(15),
        acceptTimeout: TimeAmount = .seconds(30),
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws(IRCTLSError) -> IRCTLSRelay {
        try sasl?.validate()
        let loop = group.next()
        let upstream = try await connect(host: host, port: port, serverName: serverName, transport: transport,
                                         loop: loop, timeout: handshakeTimeout)
        var outcome = SASLOutcome.notRequested
        if let sasl {
            outcome = try await authenticate(upstream, credentials: sasl, timeout: TimeAmount(saslTimeout))
        }
        // Only now, with a verified (and, if asked, authenticated) upstream, does anything
        // listen for libircclient.
        return try await listen(upstream: upstream, serverName: serverName, saslOutcome: outcome,
                                acceptTimeout: acceptTimeout, log: log)
    }

    // MARK: Opening, step by step

    /// The upstream channel, connected and (for TLS) verified, ending in a `RelayGlueHandler`
    /// that holds reads until pairing.
    private static func connect(host: String, port: Int, serverName: String, transport: Transport,
                                loop: EventLoop, timeout: TimeAmount) async throws(IRCTLSError) -> Channel {
        guard case .tls(let verification) = transport else {
            let bootstrap = ClientBootstrap(group: loop)
                .connectTimeout(timeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RelayGlueHandler(holdsReadsUntilPaired: true))
                    }
                }
            do {
                return try await bootstrap.connect(host: host, port: port).get()
            } catch {
                throw .connectFailed("could not connect to \(host) port \(port): \(error)")
            }
        }

        let context = try makeContext(verification)
        let sni: String? = isIPLiteral(serverName) ? nil : serverName
        let handshake = loop.makePromise(of: Void.self)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                do {
                    let tls = try NIOSSLClientHandler(context: context, serverHostname: sni)
                    try channel.pipeline.syncOperations.addHandlers([
                        tls,
                        HandshakeWatcher(promise: handshake, timeout: timeout,
                                         requiredDNSName: verification == .none ? nil : sni),
                        RelayGlueHandler(),
                    ])
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }

        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            handshake.fail(error)
            throw .connectFailed("could not connect to \(host) port \(port): \(error)")
        }
        do {
            try await handshake.futureResult.get()
        } catch {
            channel.close(promise: nil)
            throw classify(error, serverName: serverName, host: host, port: port, verification: verification)
        }
        return channel
    }

    /// Runs the SASL prelude on `upstream`, in front of its `RelayGlueHandler`; closes the
    /// upstream if it fails.
    private static func authenticate(_ upstream: Channel, credentials: SASLCredentials,
                                     timeout: TimeAmount) async throws(IRCTLSError) -> SASLOutcome {
        let result = upstream.eventLoop.makePromise(of: SASLOutcome.self)
        upstream.eventLoop.execute {
            do {
                let pipeline = upstream.pipeline.syncOperations
                let glue = try pipeline.handler(type: RelayGlueHandler.self)
                try pipeline.addHandler(
                    SASLPreludeHandler(credentials: credentials, timeout: timeout, result: result),
                    position: .before(glue))
            } catch {
                result.fail(error)
            }
        }
        do {
            return try await result.futureResult.get()
        } catch {
            upstream.close(promise: nil)
            if let error = error as? IRCTLSError { throw error }
            throw .saslFailed("the SASL exchange could not start: \(error)")
        }
    }

    /// Opens the loopback listener for libircclient and returns the relay.
    private static func listen(upstream: Channel, serverName: String, saslOutcome: SASLOutcome,
                               acceptTimeout: TimeAmount,
                               log: @escaping @Sendable (String) -> Void) async throws(IRCTLSError) -> IRCTLSRelay {
        let loop = upstream.eventLoop
        let pairing = PairingState()
        let listener: Channel
        do {
            listener = try await ServerBootstrap(group: loop)
                .serverChannelOption(.backlog, value: 4)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { child in
                    pairing.accept(child, upstream: upstream, log: log)
                }
                .bind(host: "127.0.0.1", port: 0).get()
        } catch {
            upstream.close(promise: nil)
            throw .listenFailed("could not listen on 127.0.0.1: \(error)")
        }
        guard let localPort = listener.localAddress?.port else {
            listener.close(promise: nil)
            upstream.close(promise: nil)
            throw .listenFailed("the listener has no local port")
        }
        let relay = IRCTLSRelay(localPort: localPort, serverName: serverName, saslOutcome: saslOutcome,
                                upstream: upstream, listener: listener)
        pairing.relay = RelayReference(relay)

        // Teardown: the upstream closing ends everything; the accept is bounded in time.
        upstream.closeFuture.whenComplete { _ in
            listener.close(promise: nil)
            relay.state.withLock { $0.peer }?.close(promise: nil)
        }
        loop.scheduleTask(in: acceptTimeout) {
            if !relay.isPaired {
                log("IRC relay for \(serverName): nobody connected within \(acceptTimeout.nanoseconds / 1_000_000_000) s; closing")
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

    func accept(_ child: Channel, upstream: Channel, log: @Sendable (String) -> Void) -> EventLoopFuture<Void> {
        let loop = child.eventLoop
        guard let relay = relay?.relay else {
            log("IRC relay: refused a connection that arrived before the relay was ready")
            return loop.makeFailedFuture(ChannelError.inputClosed)
        }
        let peerPort = child.remoteAddress?.port ?? -1
        let listenerPort = relay.localPort
        guard peerPort > 0, LoopbackPeerCheck.isOwnSocket(peerPort: peerPort, listenerPort: listenerPort) else {
            relay.didReject()
            log("IRC relay for \(relay.serverName): refused a connection from 127.0.0.1 port \(peerPort), "
                + "which is not a socket of this process")
            return loop.makeFailedFuture(ChannelError.inputClosed)
        }
        guard relay.didAccept(child) else {
            relay.didReject()
            log("IRC relay for \(relay.serverName): refused a second connection (port \(peerPort))")
            return loop.makeFailedFuture(ChannelError.inputClosed)
        }
        // Same event loop as the upstream channel (the listener was bootstrapped on it).
        loop.preconditionInEventLoop()
        precondition(upstream.eventLoop === loop)
        do {
            let local = RelayGlueHandler()
            try child.pipeline.syncOperations.addHandler(local)
            let remote = try upstream.pipeline.syncOperations.handler(type: RelayGlueHandler.self)
            guard upstream.isActive else {
                log("IRC relay for \(relay.serverName): the server connection closed before libircclient connected")
                return loop.makeFailedFuture(ChannelError.ioOnClosedChannel)
            }
            RelayGlueHandler.pair(local, remote)
        } catch {
            log("IRC relay for \(relay.serverName): could not pair the connections: \(error)")
            upstream.close(promise: nil)
            return loop.makeFailedFuture(error)
        }
        child.closeFuture.whenComplete { _ in upstream.close(promise: nil) }
        // Stop listening once the child is set up (closing the parent inside its own accept
        // path would disturb the child's registration).
        let parent = child.parent
        loop.execute { parent?.close(promise: nil) }
        return loop.makeSucceededVoidFuture()
    }
}

