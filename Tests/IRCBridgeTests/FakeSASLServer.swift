// A tiny scripted IRC server on 127.0.0.1:0 (SwiftNIO, optionally behind TLS) that offers SASL
// PLAIN, checks one user's password, and records every line it receives. It says something
// unrelated at every step (NOTICEs, a PING) so tests can check that nothing is lost or reordered
// on the way to libircclient.

import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
@testable import IRCBridge

final class FakeSASLServer: Sendable {
    struct Script: Sendable {
        var username = "alice"
        var password = "correct horse"
        /// When false, the server never answers CAP (for the timeout).
        var answersCAP = true
        var capabilities = [":fake.test CAP * LS * :multi-prefix away-notify",
                            ":fake.test CAP * LS :sasl=PLAIN,EXTERNAL account-tag"]
        /// How many WHOIS the server answers (per connection); later ones go unanswered.
        var whoisAnswers = 0
    }

    /// What the client stand-in must receive, in this order, before the 001.
    static let greeting = ":fake.test NOTICE * :*** Looking up your hostname"
    static let duringPrelude = ":fake.test NOTICE * :*** Checking ident"
    static let rightAfter903 = ":fake.test NOTICE * :sent in the same packet as 903"
    static let afterCAPEnd = ":fake.test NOTICE * :welcome after CAP END"
    static let pingToken = "fake-token-42"

    let port: Int
    private let channel: Channel
    private let state = Mutex<(lines: [String], connections: Int, open: Int)>(([], 0, 0))

    private init(channel: Channel) {
        self.channel = channel
        self.port = channel.localAddress!.port!
    }

    static func start(script: Script, tls: NIOSSLContext? = nil, group: EventLoopGroup) async throws -> FakeSASLServer {
        let box = Box()
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { child in
                let server = box.server!
                server.state.withLock { $0.connections += 1; $0.open += 1 }
                child.closeFuture.whenComplete { _ in server.state.withLock { $0.open -= 1 } }
                return child.eventLoop.makeCompletedFuture {
                    if let tls { try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try child.pipeline.syncOperations.addHandler(Session(server: server, script: script))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let server = FakeSASLServer(channel: channel)
        box.server = server
        return server
    }

    var lines: [String] { state.withLock { $0.lines } }
    var connections: Int { state.withLock { $0.connections } }

    /// Waits (bounded) until the server has received a line satisfying `predicate`.
    func waitForLine(_ what: String, timeout: Duration = .seconds(10),
                     _ predicate: (String) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !lines.contains(where: predicate) {
            if ContinuousClock.now > deadline { throw TestTimeout.expired("\(what): server got \(lines)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits (bounded) until every connection to the server has closed.
    func waitUntilAllClosed(timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while state.withLock({ $0.open }) > 0 {
            if ContinuousClock.now > deadline { throw TestTimeout.expired("connections to the fake server still open") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func close() { channel.close(promise: nil) }

    fileprivate func record(_ line: String) { state.withLock { $0.lines.append(line) } }

    private final class Box: @unchecked Sendable {
        var server: FakeSASLServer?
    }

    /// One client connection, scripted.
    private final class Session: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let server: FakeSASLServer
        let script: Script
        var framer = IRCLineFramer(maxLineLength: 8192)
        var saslPayload = ""
        var whoisAnswered = 0

        init(server: FakeSASLServer, script: Script) {
            self.server = server
            self.script = script
        }

        func channelActive(context: ChannelHandlerContext) {
            send([FakeSASLServer.greeting], context)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            framer.append(unwrapInboundIn(data).readableBytesView)
            while let bytes = try? framer.nextLine() {
                let line = String(decoding: bytes, as: UTF8.self)
                server.record(line)
                respond(to: line, context)
            }
        }

        private func respond(to line: String, _ context: ChannelHandlerContext) {
            let words = line.split(separator: " ", maxSplits: 1)
            switch (words.first.map(String.init), words.count > 1 ? String(words[1]) : "") {
            case ("CAP", "LS 302"):
                guard script.answersCAP else { return }
                send([FakeSASLServer.duringPrelude, "PING :\(FakeSASLServer.pingToken)"] + script.capabilities, context)
            case ("CAP", "REQ :sasl"):
                send([":fake.test CAP * ACK :sasl"], context)
            case ("CAP", "END"):
                send([FakeSASLServer.afterCAPEnd], context)
            case ("AUTHENTICATE", "PLAIN"):
                send(["AUTHENTICATE +"], context)
            case ("AUTHENTICATE", let chunk):
                if chunk != "+" { saslPayload += chunk }
                guard chunk == "+" || chunk.utf8.count < 400 else { return }
                let expected = Array("\(script.username)\0\(script.username)\0\(script.password)".utf8)
                let got = Data(base64Encoded: saslPayload).map(Array.init) ?? []
                if got == expected {
                    // Both results and an unrelated line in one write: the relay must hand the
                    // NOTICE on even though it arrived with the 903.
                    send([":fake.test 900 * * \(script.username) :You are now logged in as \(script.username)",
                          ":fake.test 903 * :SASL authentication successful",
                          FakeSASLServer.rightAfter903], context)
                } else {
                    send([":fake.test 904 * :SASL authentication failed: wrong password for \(script.username)"], context)
                }
            case ("USER", _):
                send([":fake.test 001 x :Welcome to the fake network", ":fake.test 422 x :MOTD File is missing"], context)
            case ("WHOIS", let nick):
                guard whoisAnswered < script.whoisAnswers else { return }
                whoisAnswered += 1
                send([":fake.test 311 x \(nick) \(nick) host.test * :Real \(nick)", ":fake.test 318 x \(nick) :End of WHOIS list"], context)
            default:
                break
            }
        }

        private func send(_ lines: [String], _ context: ChannelHandlerContext) {
            var buffer = context.channel.allocator.buffer(capacity: 256)
            for line in lines { buffer.writeString(line + "\r\n") }
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
    }
}

/// Stands in for libircclient: a plain TCP client of this process on the relay's loopback port,
/// collecting what it receives.
final class LoopbackClient: Sendable {
    private let channel: Channel
    private let sink: Sink

    private init(channel: Channel, sink: Sink) {
        self.channel = channel
        self.sink = sink
    }

    static func connect(port: Int, group: EventLoopGroup) async throws -> LoopbackClient {
        let sink = Sink()
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(sink: sink))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return LoopbackClient(channel: channel, sink: sink)
    }

    var text: String { String(decoding: sink.bytes.withLock { $0 }, as: UTF8.self) }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(channel.allocator.buffer(string: text)).get()
    }

    /// Waits (bounded) until what was received contains `needle`.
    func waitFor(_ needle: String, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while !text.contains(needle) {
            if ContinuousClock.now > deadline { throw TestTimeout.expired("client never got \(needle); got \(text)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func close() { channel.close(promise: nil) }

    private final class Sink: Sendable {
        let bytes = Mutex<[UInt8]>([])
    }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let sink: Sink
        init(sink: Sink) { self.sink = sink }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            sink.bytes.withLock { $0 += buffer.readableBytesView }
        }
    }
}
