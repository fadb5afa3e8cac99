// IRCTLSRelay against real TLS: ngircd's [SSL] port with a test CA made by openssl, and a
// recording NIO TLS server for the "nothing in plaintext" check. Every wait is bounded.

import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import XCTest
@testable import IRCBridge

final class IRCTLSRelayTests: XCTestCase {
    private var pki: TestPKI?
    private var server: TLSNgircdTestServer?
    private var loops: IRCLoopGroup?
    private var nio: MultiThreadedEventLoopGroup?

    override func setUp() async throws {
        let pki = try TestPKI.make()
        self.pki = pki
        nio = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    override func tearDown() async throws {
        loops?.shutdown()
        loops = nil
        server?.stop()
        server = nil
        try await nio?.shutdownGracefully()
        nio = nil
        pki?.remove()
        pki = nil
    }

    private func startServer() throws -> TLSNgircdTestServer {
        let server = try TLSNgircdTestServer(pki: pki!)
        self.server = server
        return server
    }

    private func loopGroup() -> IRCLoopGroup {
        let group = IRCLoopGroup(threads: 1)
        loops = group
        return group
    }

    private func config(_ nick: String, port: UInt16) -> IRCConnectionConfig {
        IRCConnectionConfig(host: "127.0.0.1", port: port, nick: nick, username: "cw",
                            registrationTimeout: .seconds(15))
    }

    /// Registers `nick` through the relay and a plain client beside it; exchanges PRIVMSGs.
    private func exchange(through relay: IRCTLSRelay, server: TLSNgircdTestServer, group: IRCLoopGroup,
                          tlsNick: String, plainNick: String) async throws -> (IRCSession, EventLog, IRCSession, EventLog) {
        let viaTLS = group.makeSession(label: tlsNick)
        let plain = group.makeSession(label: plainNick)
        let tlsLog = EventLog(viaTLS.events)
        let plainLog = EventLog(plain.events)
        viaTLS.connect(config(tlsNick, port: UInt16(relay.localPort)))
        plain.connect(config(plainNick, port: server.plainPort))
        try await tlsLog.waitFor("\(tlsNick) registered over TLS") { $0.isConnected }
        try await plainLog.waitFor("\(plainNick) registered") { $0.isConnected }
        try await sendAndExpect(from: viaTLS, to: plainNick, plainLog, "hello over TLS ünïcode")
        try await sendAndExpect(from: plain, to: tlsNick, tlsLog, "hello back in plain text")
        return (viaTLS, tlsLog, plain, plainLog)
    }

    private func sendAndExpect(from sender: IRCSession, to nick: String, _ log: EventLog, _ text: String) async throws {
        sender.send("PRIVMSG \(nick) :\(text)")
        try await log.waitFor("PRIVMSG \(text)") {
            if case .message(.privmsg, _, _, let params) = $0 { return params == [nick, text] }
            return false
        }
    }

    private func waitUntilClosed(_ relay: IRCTLSRelay, within timeout: Duration = .seconds(10)) async throws {
        let closed = Mutex(false)
        relay.closeFuture.whenComplete { _ in closed.withLock { $0 = true } }
        let deadline = ContinuousClock.now + timeout
        while !closed.withLock({ $0 }) {
            if ContinuousClock.now > deadline { throw TestTimeout.expired("relay did not close within \(timeout)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    // (1) Trusted CA: an engine session registers through the relay and chats with a plain client.
    func testEngineSessionThroughRelayWithTrustedCA() async throws {
        let server = try startServer()
        let relay = try await IRCTLSRelay.open(
            host: "127.0.0.1", port: Int(server.tlsPort), serverName: "localhost",
            verification: .full(trustRoots: .pemFile(pki!.caFile)), group: nio!)
        XCTAssertGreaterThan(relay.localPort, 0)
        let group = loopGroup()
        let (viaTLS, tlsLog, _, _) = try await exchange(through: relay, server: server, group: group,
                                                        tlsNick: "tls_alice", plainNick: "plain_bob")
        XCTAssertTrue(relay.isPaired)
        XCTAssertEqual(relay.rejectedPeerCount, 0)
        // QUIT through the relay: the server closes TLS, the relay closes, libircclient sees EOF.
        viaTLS.disconnect(quitMessage: "bye")
        try await tlsLog.waitFor("disconnected") { $0.isDisconnected }
        try await waitUntilClosed(relay)
    }

    // The certificate names localhost/127.0.0.1, not the name we asked for.
    func testWrongNameIsAVerificationFailure() async throws {
        let server = try startServer()
        do {
            _ = try await IRCTLSRelay.open(
                host: "127.0.0.1", port: Int(server.tlsPort), serverName: "irc.example.org",
                verification: .full(trustRoots: .pemFile(pki!.caFile)), group: nio!)
            XCTFail("opened a relay to a server whose certificate names another host")
        } catch {
            guard case .verificationFailed(let text) = error else { return XCTFail("got \(error)") }
            XCTAssertTrue(text.contains("not valid for the name irc.example.org"), text)
        }
    }

    // (2) Untrusted CA: verificationFailed with a clear text; not one plaintext byte was sent.
    func testUntrustedCertificateFailsWithoutPlaintext() async throws {
        let recorder = try await RecordingTLSServer.start(pki: pki!, group: nio!)
        defer { recorder.close() }
        for roots in [IRCTLSRelay.TrustRoots.default, .pemFile(pki!.otherCAFile)] {
            do {
                _ = try await IRCTLSRelay.open(
                    host: "127.0.0.1", port: recorder.port, serverName: "localhost",
                    verification: .full(trustRoots: roots), group: nio!)
                XCTFail("opened a relay to an untrusted server with \(roots)")
            } catch {
                guard case .verificationFailed(let text) = error else { return XCTFail("got \(error)") }
                XCTAssertTrue(text.contains("the certificate for localhost is not trusted"), text)
            }
        }
        let (wire, plaintext, connections) = try await recorder.settled()
        XCTAssertEqual(connections, 2)
        XCTAssertEqual(plaintext.count, 0, "the server received application data")
        XCTAssertEqual(wire.first, 0x16, "the first byte on the wire is not a TLS handshake record")
        XCTAssertFalse(String(decoding: wire, as: UTF8.self).contains("NICK"))
    }

    // (3) `.none` connects to a server whose certificate nothing here trusts.
    func testNoVerificationConnectsToUntrustedServer() async throws {
        let server = try startServer()
        let relay = try await IRCTLSRelay.open(
            host: "127.0.0.1", port: Int(server.tlsPort), serverName: "irc.untrusted.example",
            verification: .none, group: nio!)
        defer { relay.close() }
        _ = try await exchange(through: relay, server: server, group: loopGroup(),
                               tlsNick: "tls_carol", plainNick: "plain_dave")
    }

    // (4) Another process's connection is refused and the relay keeps waiting; after the one
    // accept nothing else can connect, and the paired session keeps working.
    func testForeignPeerRefusedAndOnlyOneAccept() async throws {
        let server = try startServer()
        let logged = Mutex<[String]>([])
        let relay = try await IRCTLSRelay.open(
            host: "127.0.0.1", port: Int(server.tlsPort), serverName: "127.0.0.1",
            verification: .full(trustRoots: .pemFile(pki!.caFile)), group: nio!,
            log: { line in logged.withLock { $0.append(line) } })
        defer { relay.close() }

        // A socket of another process (bash's /dev/tcp): closed at once, without data.
        let status = try probeFromAnotherProcess(port: relay.localPort)
        XCTAssertEqual(status, "eof", "the foreign connection was not closed at once")
        XCTAssertEqual(relay.rejectedPeerCount, 1)
        XCTAssertFalse(relay.isPaired)
        XCTAssertTrue(logged.withLock { $0 }.contains { $0.contains("not a socket of this process") })

        let group = loopGroup()
        let (viaTLS, tlsLog, plain, _) = try await exchange(through: relay, server: server, group: group,
                                                            tlsNick: "tls_erin", plainNick: "plain_frank")
        // The listener is gone after the one accept.
        XCTAssertFalse(NgircdTestServer.canConnect(port: UInt16(relay.localPort)))
        try await sendAndExpect(from: plain, to: "tls_erin", tlsLog, "still there?")
        _ = viaTLS
    }

    // Nobody connects: the relay gives up after acceptTimeout and closes the TLS connection.
    func testAcceptTimeoutClosesRelay() async throws {
        let server = try startServer()
        let relay = try await IRCTLSRelay.open(
            host: "127.0.0.1", port: Int(server.tlsPort), serverName: "localhost",
            verification: .full(trustRoots: .pemFile(pki!.caFile)), group: nio!, acceptTimeout: .milliseconds(300))
        try await waitUntilClosed(relay, within: .seconds(5))
        XCTAssertFalse(NgircdTestServer.canConnect(port: UInt16(relay.localPort)))
    }

    /// Connects from a bash child process and reports whether the relay closed it ("eof") or
    /// kept it open ("open").
    private func probeFromAnotherProcess(port: Int) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["10", "/bin/bash", "-c", """
            exec 3<>/dev/tcp/127.0.0.1/\(port) || { echo refused; exit 0; }
            read -t 5 -r line <&3; rc=$?
            if [ $rc -gt 128 ]; then echo open; elif [ -n "$line" ]; then echo data; else echo eof; fi
            """]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A TLS server (the test PKI's leaf) that records every byte on the wire and every byte of
/// decrypted application data.
final class RecordingTLSServer: Sendable {
    let port: Int
    private let channel: Channel
    private let record: Mutex<(wire: [UInt8], plain: [UInt8], connections: Int, open: Int)>

    private init(channel: Channel) {
        self.channel = channel
        self.port = channel.localAddress!.port!
        self.record = Mutex(([], [], 0, 0))
    }

    static func start(pki: TestPKI, group: EventLoopGroup) async throws -> RecordingTLSServer {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(pki.certFile).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pki.keyFile, format: .pem)))
        let context = try NIOSSLContext(configuration: configuration)
        let box = Box()
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { child in
                let server = box.server!
                server.record.withLock { $0.connections += 1; $0.open += 1 }
                child.closeFuture.whenComplete { _ in server.record.withLock { $0.open -= 1 } }
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandlers([
                        Recorder(server: server, wire: true),
                        NIOSSLServerHandler(context: context),
                        Recorder(server: server, wire: false),
                    ])
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let server = RecordingTLSServer(channel: channel)
        box.server = server
        return server
    }

    /// What was received, once every connection has closed (bounded).
    func settled(timeout: Duration = .seconds(10)) async throws -> (wire: [UInt8], plain: [UInt8], connections: Int) {
        let deadline = ContinuousClock.now + timeout
        while record.withLock({ $0.open }) > 0 {
            if ContinuousClock.now > deadline { throw TestTimeout.expired("TLS connections still open") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return record.withLock { ($0.wire, $0.plain, $0.connections) }
    }

    func close() { channel.close(promise: nil) }

    fileprivate func append(_ bytes: [UInt8], wire: Bool) {
        record.withLock { if wire { $0.wire += bytes } else { $0.plain += bytes } }
    }

    private final class Box: @unchecked Sendable {
        var server: RecordingTLSServer?
    }

    private final class Recorder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        let server: RecordingTLSServer
        let wire: Bool
        init(server: RecordingTLSServer, wire: Bool) {
            self.server = server
            self.wire = wire
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            server.append(Array(buffer.readableBytesView), wire: wire)
            context.fireChannelRead(data)
        }
    }
}
