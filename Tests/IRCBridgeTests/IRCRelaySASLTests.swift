// IRCTLSRelay with SASL and with plain TCP: against the scripted `FakeSASLServer` (checks the
// credentials and the order of everything on both sides) and against real ngircd, which has
// CAP but no SASL. A raw TCP client of this process stands in for libircclient where the test
// needs to see bytes; the engine itself where it needs to see registration. Every wait is bounded.

import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import XCTest
@testable import IRCBridge

final class IRCRelaySASLTests: XCTestCase {
    private var nio: MultiThreadedEventLoopGroup?
    private var loops: IRCLoopGroup?
    private var ngircd: NgircdTestServer?
    private var pki: TestPKI?

    private let alice = IRCTLSRelay.SASLCredentials(username: "alice", password: "correct horse")

    override func setUp() async throws {
        nio = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    override func tearDown() async throws {
        loops?.shutdown()
        loops = nil
        ngircd?.stop()
        ngircd = nil
        try await nio?.shutdownGracefully()
        nio = nil
        pki?.remove()
        pki = nil
    }

    /// After a successful prelude: the server got the prelude and `CAP END` before anything
    /// from the client, then NICK/USER; the client got every unrelated line, in order, then 001.
    private func checkPairedSession(relay: IRCTLSRelay, server: FakeSASLServer) async throws {
        try await server.waitForLine("CAP END") { $0 == "CAP END" }
        XCTAssertEqual(server.lines, [
            "CAP LS 302",
            "PONG :\(FakeSASLServer.pingToken)",
            "CAP REQ :sasl",
            "AUTHENTICATE PLAIN",
            "AUTHENTICATE YWxpY2UAYWxpY2UAY29ycmVjdCBob3JzZQ==",  // alice\0alice\0correct horse
            "CAP END",
        ])

        let client = try await LoopbackClient.connect(port: relay.localPort, group: nio!)
        defer { client.close() }
        try await client.send("NICK x\r\nUSER x 0 * :Stand-in for libircclient\r\n")
        try await server.waitForLine("USER") { $0.hasPrefix("USER ") }
        XCTAssertEqual(Array(server.lines.dropFirst(6)), ["NICK x", "USER x 0 * :Stand-in for libircclient"])

        try await client.waitFor(" 422 ")
        XCTAssertEqual(client.text.components(separatedBy: "\r\n"), [
            FakeSASLServer.greeting,
            FakeSASLServer.duringPrelude,
            FakeSASLServer.rightAfter903,
            FakeSASLServer.afterCAPEnd,
            ":fake.test 001 x :Welcome to the fake network",
            ":fake.test 422 x :MOTD File is missing",
            "",
        ])
        XCTAssertTrue(relay.isPaired)
        XCTAssertEqual(relay.rejectedPeerCount, 0)
    }

    func testSASLOverPlainTCPThenLibircclientPairs() async throws {
        let server = try await FakeSASLServer.start(script: .init(), group: nio!)
        defer { server.close() }
        let relay = try await IRCTLSRelay.open(
            host: "127.0.0.1", port: server.port, serverName: "fake.test", transport: .plain,
            sasl: alice, group: nio!)
        defer { relay.close() }
        XCTAssertEqual(relay.saslOutcome, .succeeded)
        try await checkPairedSession(relay: relay, server: server)
    }

    func testSASLOverTLS() async throws {
        let pki = try TestPKI.make()
        self.pki = pki
        let tls = try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(pki.certFile).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pki.keyFile, format: .pem))))
        let server = try await FakeSASLServer.start(script: .init(), tls: tls, group: nio!)
        defer { server.close() }
        let relay = try await IRCTLSRelay.open(
            host: "127.0.0.1", port: server.port, serverName: "localhost",
            transport: .tls(.full(trustRoots: .pemFile(pki.caFile))), sasl: alice, group: nio!)
        defer { relay.close() }
        XCTAssertEqual(relay.saslOutcome, .succeeded)
        try await checkPairedSession(relay: relay, server: server)
    }

    func testWrongPasswordFailsWithTheServersText() async throws {
        let server = try await FakeSASLServer.start(script: .init(), group: nio!)
        defer { server.close() }
        do {
            _ = try await IRCTLSRelay.open(
                host: "127.0.0.1", port: server.port, serverName: "fake.test", transport: .plain,
                sasl: .init(username: "alice", password: "battery staple"), group: nio!)
            XCTFail("opened a relay with a wrong password")
        } catch {
            XCTAssertEqual(error, .saslFailed("SASL authentication failed: wrong password for alice"))
            XCTAssertEqual(error.description, "SASL authentication failed: SASL authentication failed: wrong password for alice")
        }
        // The relay closed the upstream and never got as far as CAP END.
        try await server.waitUntilAllClosed()
        XCTAssertFalse(server.lines.contains("CAP END"))
        XCTAssertEqual(server.lines.last?.hasPrefix("AUTHENTICATE "), true)
    }

    func testSilentServerTimesOut() async throws {
        let server = try await FakeSASLServer.start(script: .init(answersCAP: false), group: nio!)
        defer { server.close() }
        let started = ContinuousClock.now
        do {
            _ = try await IRCTLSRelay.open(
                host: "127.0.0.1", port: server.port, serverName: "fake.test", transport: .plain,
                sasl: alice, saslTimeout: .milliseconds(300), group: nio!)
            XCTFail("opened a relay although the server never answered CAP")
        } catch {
            XCTAssertEqual(error, .saslTimedOut)
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5))
        try await server.waitUntilAllClosed()
        XCTAssertEqual(server.lines, ["CAP LS 302"])
    }

    func testLineBreakInCredentialsIsRefusedBeforeConnecting() async throws {
        let server = try await FakeSASLServer.start(script: .init(), group: nio!)
        defer { server.close() }
        for credentials in [IRCTLSRelay.SASLCredentials(username: "alice\r\nQUIT", password: "x"),
                            IRCTLSRelay.SASLCredentials(username: "alice", password: "x\0y")] {
            do {
                _ = try await IRCTLSRelay.open(
                    host: "127.0.0.1", port: server.port, serverName: "fake.test", transport: .plain,
                    sasl: credentials, group: nio!)
                XCTFail("opened a relay with \(credentials)")
            } catch {
                guard case .invalidCredentials = error else { return XCTFail("got \(error)") }
            }
        }
        XCTAssertEqual(server.connections, 0)
    }

    // MARK: Against ngircd (CAP, no SASL)

    private func startNgircd() throws -> NgircdTestServer {
        let server = try NgircdTestServer()
        ngircd = server
        return server
    }

    /// Registers `nick` through the relay and a direct client beside it; one PRIVMSG each way.
    private func chat(through relay: IRCTLSRelay, server: NgircdTestServer, nick: String, other: String) async throws {
        let group = IRCLoopGroup(threads: 1)
        loops = group
        let viaRelay = group.makeSession(label: nick)
        let direct = group.makeSession(label: other)
        let relayLog = EventLog(viaRelay.events)
        let directLog = EventLog(direct.events)
        viaRelay.connect(IRCConnectionConfig(host: "127.0.0.1", port: UInt16(relay.localPort), nick: nick,
                                             username: "cw", registrationTimeout: .seconds(15)))
        direct.connect(IRCConnectionConfig(host: "127.0.0.1", port: server.port, nick: other,
                                           username: "cw", registrationTimeout: .seconds(15)))
        try await relayLog.waitFor("\(nick) registered through the relay") { $0.isConnected }
        try await directLog.waitFor("\(other) registered") { $0.isConnected }
        viaRelay.send("PRIVMSG \(other) :through the relay")
        try await directLog.waitFor("PRIVMSG through the relay") {
            if case .message(.privmsg, _, _, let params) = $0 { return params == [other, "through the relay"] }
            return false
        }
        direct.send("PRIVMSG \(nick) :and back")
        try await relayLog.waitFor("PRIVMSG and back") {
            if case .message(.privmsg, _, _, let params) = $0 { return params == [nick, "and back"] }
            return false
        }
        XCTAssertTrue(relay.isPaired)
    }

    func testPlainRelayWithoutSASLIsAPipe() async throws {
        let server = try startNgircd()
        let relay = try await IRCTLSRelay.open(
            host: "127.0.0.1", port: Int(server.port), serverName: "irc.causeway.test", transport: .plain,
            sasl: nil, group: nio!)
        defer { relay.close() }
        XCTAssertEqual(relay.saslOutcome, .notRequested)
        try await chat(through: relay, server: server, nick: "pipe_gina", other: "direct_hal")
    }

    func testServerWithoutSASLIsNotOffered() async throws {
        let server = try startNgircd()
        let relay = try await IRCTLSRelay.open(
            host: "127.0.0.1", port: Int(server.port), serverName: "irc.causeway.test", transport: .plain,
            sasl: alice, group: nio!)
        defer { relay.close() }
        XCTAssertEqual(relay.saslOutcome, .notOffered)
        try await chat(through: relay, server: server, nick: "cap_ivy", other: "direct_jon")
    }
}
