// The IRC bridge (private chat) against a real ngircd on loopback, with a raw IRC peer (an
// engine session) on the other side and a recording event sink in place of the gateway core.

import GatewayCore
import NIOPosix
import XCTest
import XMPPCore
@testable import IRCBridge

/// Records what the bridge reports; tests wait on it with a deadline.
actor RecordingSink: BridgeEventSink {
    private(set) var events: [BridgeEvent] = []

    func report(_ event: BridgeEvent) async throws { events.append(event) }

    func account(forLegacyID legacyID: String) async -> BridgeAccount? { nil }

    @discardableResult
    func waitFor(_ what: String, timeout: Duration = .seconds(10),
                 _ predicate: @Sendable (BridgeEvent) -> Bool) async throws -> BridgeEvent {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let event = events.first(where: predicate) { return event }
            if ContinuousClock.now >= deadline {
                throw TestTimeout.expired("\(what): not seen within \(timeout); got \(events.suffix(8))")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// A sink whose per-contact settings answer only when told to: holds a connection in planning.
actor GatedSettingsSink: BridgeEventSink {
    private var pending: [CheckedContinuation<Void, Never>] = []
    private(set) var deliveries: [(legacyMessageID: String, refused: Bool)] = []

    var waiting: Int { pending.count }

    func report(_ event: BridgeEvent) async throws {
        if case .delivery(_, let id, let outcome) = event {
            if case .refused = outcome { deliveries.append((id, true)) } else { deliveries.append((id, false)) }
        }
    }

    func account(forLegacyID legacyID: String) async -> BridgeAccount? { nil }

    func contactSettings(user: String, address: String) async -> RegistrationRecord? {
        await withCheckedContinuation { pending.append($0) }
        return nil
    }

    func answerAll() {
        for continuation in pending { continuation.resume() }
        pending = []
    }
}

final class IRCBridgeTests: XCTestCase {
    private var server: NgircdTestServer?
    private var group: IRCLoopGroup?
    private var bridges: [IRCBridge] = []

    private let alice = BridgeAccount(
        user: "alice@localhost",
        record: RegistrationRecord(legacyID: nil, fields: ["nick": "alice_xmpp", "username": "alice", "realname": "Alice"])
    )

    override func tearDown() async throws {
        for bridge in bridges { await bridge.stop() }
        bridges = []
        group?.shutdown()
        group = nil
        server?.stop()
        server = nil
        try await super.tearDown()
    }

    private func makeBridge(throttle: TokenBucket = .unlimited) -> (IRCBridge, RecordingSink) {
        if group == nil { group = IRCLoopGroup(threads: 1) }
        let settings = IRCBridgeSettings(defaultPort: server?.port ?? 6667, throttle: throttle, connectTimeout: .seconds(15))
        let bridge = IRCBridge(identity: BridgeIdentity(domain: "irc.localhost", name: "IRC", gatewayType: "irc"),
                               settings: settings, loops: group!)
        bridges.append(bridge)
        return (bridge, RecordingSink())
    }

    private func startBridge(throttle: TokenBucket = .unlimited) async throws -> (IRCBridge, RecordingSink) {
        let (bridge, sink) = makeBridge(throttle: throttle)
        await bridge.start(events: sink)
        try await bridge.logIn(alice)
        return (bridge, sink)
    }

    /// A raw IRC client registered as `nick`.
    private func connectPeer(_ nick: String) async throws -> (IRCSession, EventLog) {
        let session = group!.makeSession(label: nick)
        let log = EventLog(session.events)
        session.connect(IRCConnectionConfig(host: "127.0.0.1", port: server!.port, nick: nick, username: "peer",
                                            realname: "peer", registrationTimeout: .seconds(15)))
        try await log.waitFor("\(nick) registered") { $0.isConnected }
        return (session, log)
    }

    private func send(_ bridge: IRCBridge, to: String, _ body: String, id: String = "x") async throws(BridgeError) -> String? {
        try await bridge.send(OutgoingMessage(to: to, body: body, xmppID: id), from: alice)
    }

    private static func privmsgFromAlice(_ event: IRCEvent) -> [String]? {
        if case .message(.privmsg, _, let origin?, let params) = event, origin.hasPrefix("alice_xmpp!") { return params }
        return nil
    }

    // MARK: - Registration and addresses (no server)

    func testRegistrationValidatesNickAndLineFields() async throws {
        let (bridge, _) = makeBridge()
        for bad in ["bad nick", "a,b", "alice\r\nQUIT :x", "alice\n", "", "1abc"] {
            do {
                _ = try await bridge.validateRegistration(RegistrationSubmission(user: "a@localhost", values: ["nick": bad], previous: nil))
                XCTFail("accepted nick \(bad.debugDescription)")
            } catch {
                XCTAssertEqual(error.field, "nick")
            }
        }
        for (field, value) in [("username", "a b"), ("username", "a@b"), ("realname", "A\r\nQUIT"), ("password", "p w")] {
            do {
                _ = try await bridge.validateRegistration(RegistrationSubmission(user: "a@localhost", values: ["nick": "alice_xmpp", field: value], previous: nil))
                XCTFail("accepted \(field) \(value.debugDescription)")
            } catch {
                XCTAssertEqual(error.field, field)
            }
        }
        let record = try await bridge.validateRegistration(RegistrationSubmission(
            user: "a@localhost", values: ["nick": "alice_xmpp", "password": "sekrit"], previous: nil))
        XCTAssertNil(record.legacyID)
        XCTAssertEqual(record.fields, ["nick": "alice_xmpp", "username": "alice_xmpp", "realname": "alice_xmpp"])
        XCTAssertEqual(record.secrets, ["password": "sekrit"])
        XCTAssertEqual(bridge.registrationFields.map(\.name), ["nick", "username", "realname", "password"])
        XCTAssertEqual(bridge.registrationFields.first?.legacyElement, "nick")
        XCTAssertEqual(IRCBridge.kind.name, "irc")
    }

    func testAConnectionIsKeyedByTheServerLowerCased() {
        let key = IRCBridge.key("a@localhost", "irc.example.org")
        XCTAssertEqual(IRCBridge.key("a@localhost", "IRC.Example.ORG"), key)
        XCTAssertEqual(key.server, "irc.example.org")
        XCTAssertEqual(IRCBridge.key("a@localhost", "ÏRC.example.org").server, "ïrc.example.org")
        XCTAssertNotEqual(IRCBridge.key("b@localhost", "irc.example.org"), key)
    }

    func testAddressesAndUnsupportedTargets() async throws {
        let (bridge, sink) = makeBridge()
        await bridge.start(events: sink)
        XCTAssertEqual(try bridge.normalizeAddress("Bob%IRC.Example.org").get(), "bob%irc.example.org")
        guard case .failure = bridge.normalizeAddress("bad nick%irc.example.org") else { return XCTFail("accepted a space") }
        XCTAssertEqual(bridge.contactProfile("bob%irc.example.org"), ContactProfile(name: "bob", category: "client", type: "pc"))

        for (to, condition) in [("#swift%127.0.0.1", StanzaError.Condition.featureNotImplemented),
                                ("127.0.0.1", .forbidden), ("bad nick%127.0.0.1", .jidMalformed)] {
            do {
                _ = try await send(bridge, to: to, "hi")
                XCTFail("sent to \(to)")
            } catch {
                XCTAssertEqual(error.condition, condition, to)
            }
        }
    }

    func testHostResolverTakesLiteralsAsTheyAreAndResolvesNames() async throws {
        let literal = try await IRCHostResolver.resolve("127.0.0.1")
        XCTAssertEqual(literal, ["127.0.0.1"])
        let v6 = try await IRCHostResolver.resolve("::1")
        XCTAssertEqual(v6, ["::1"])
        let local = try await IRCHostResolver.resolve("localhost")
        XCTAssertTrue(local.contains("127.0.0.1") || local.contains("::1"), "\(local)")
        XCTAssertTrue(local.allSatisfy(IRCHostResolver.isIPLiteral))
    }

    // MARK: - Against ngircd

    func testPrivateMessagesBothWays() async throws {
        server = try NgircdTestServer()
        let (bridge, sink) = try await startBridge()
        let (bob, bobLog) = try await connectPeer("bob_irc")

        let id = try await send(bridge, to: "bob_irc%127.0.0.1", "hello bob")
        XCTAssertEqual(id?.hasPrefix("irc-"), true)
        try await bobLog.waitFor("bob gets the message") { Self.privmsgFromAlice($0) == ["bob_irc", "hello bob"] }

        bob.send("PRIVMSG alice_xmpp :hi back")
        try await sink.waitFor("reply reported") {
            $0 == .message(user: "alice@localhost", from: "bob_irc%127.0.0.1", body: "hi back", legacyMessageID: nil)
        }
        bob.send("PRIVMSG alice_xmpp :\u{01}ACTION waves\u{01}")
        try await sink.waitFor("action reported") {
            $0 == .message(user: "alice@localhost", from: "bob_irc%127.0.0.1", body: "/me waves", legacyMessageID: nil)
        }
        bob.send("NOTICE alice_xmpp :\u{02}bold\u{02} \u{03}4notice")
        try await sink.waitFor("notice reported, formatting stripped") {
            $0 == .message(user: "alice@localhost", from: "bob_irc%127.0.0.1", body: "bold notice", legacyMessageID: nil)
        }

        // A second message reuses the same connection: the server sees one alice_xmpp.
        _ = try await send(bridge, to: "BOB_IRC%127.0.0.1", "again")
        try await bobLog.waitFor("second message") { Self.privmsgFromAlice($0) == ["bob_irc", "again"] }

        // Logging out QUITs: the nick disappears from the server.
        await bridge.logOut(user: "alice@localhost")
        let deadline = ContinuousClock.now + .seconds(10)
        var gone = false
        while !gone, ContinuousClock.now < deadline {
            let start = await bobLog.events.count
            bob.send("WHOIS alice_xmpp")
            let index = try await bobLog.waitFor("whois answer", from: start) {
                if case .numeric(let code, _, _) = $0 { return code == 401 || code == 318 }
                return false
            }
            let answer = await bobLog.events[index]
            if case .numeric(401, _, _) = answer { gone = true } else { try await Task.sleep(for: .milliseconds(100)) }
        }
        XCTAssertTrue(gone, "alice_xmpp still on the server after logOut")
    }

    /// A user's first messages do not wait for the connection: each send returns at once, the
    /// messages wait in the bridge while it opens, and arrive in order, before any sent later.
    func testMessagesWrittenWhileTheConnectionOpensArriveInOrder() async throws {
        let ircd = try NgircdTestServer()
        server = ircd
        let (bridge, _) = try await startBridge()
        let (bob, bobLog) = try await connectPeer("bob_irc")

        // With the server held still the connection cannot register during the sends, however
        // slow the machine: they return only if they leave their messages queued.
        ircd.pause()
        for n in 1...5 { _ = try await send(bridge, to: "bob_irc%127.0.0.1", "early \(n)", id: "e\(n)") }
        let queued = await bridge.awaitingConnection.values.first?.count
        ircd.resume()
        XCTAssertEqual(queued, 5, "all five wait for the connection, none waited in the send")
        try await bobLog.waitForCount("the early messages", 5) { Self.privmsgFromAlice($0) != nil }
        _ = try await send(bridge, to: "bob_irc%127.0.0.1", "later")
        try await bobLog.waitForCount("the later message", 6) { Self.privmsgFromAlice($0) != nil }
        let texts = await bobLog.events.compactMap { Self.privmsgFromAlice($0)?[1] }
        XCTAssertEqual(texts, ["early 1", "early 2", "early 3", "early 4", "early 5", "later"])
        withExtendedLifetime(bob) {}
    }

    func testMultiLineAndLongBodiesBecomeSafeLines() async throws {
        server = try NgircdTestServer()
        let (bridge, _) = try await startBridge()
        let (bob, bobLog) = try await connectPeer("bob_irc")

        let long = String(repeating: "é", count: 1000) // 2000 bytes
        let body = "line one\rJOIN #evil\nQUIT :pwned\r\n\u{0}NICK mallory\r\n" + long
        _ = try await send(bridge, to: "bob_irc%127.0.0.1", body)

        // 4 short lines + the 2000-byte line in ~400-byte chunks.
        try await bobLog.waitForCount("all chunks", 9) { Self.privmsgFromAlice($0) != nil }
        let received = await bobLog.events.compactMap { event -> (String, [String])? in
            if case .message(.privmsg, _, let origin?, let params) = event, origin.hasPrefix("alice_xmpp!") { return (origin, params) }
            return nil
        }
        XCTAssertEqual(received.count, 9)
        for (origin, params) in received {
            let relayed = ":\(origin) PRIVMSG \(params[0]) :\(params[1])\r\n"
            XCTAssertLessThanOrEqual(relayed.utf8.count, 512, relayed)
            XCTAssertEqual(params[0], "bob_irc")
        }
        let texts = received.map { $0.1[1] }
        XCTAssertEqual(Array(texts.prefix(4)), ["line one", "JOIN #evil", "QUIT :pwned", "NICK mallory"])
        XCTAssertEqual(texts.dropFirst(4).joined(), long)

        // Nothing became a command: alice_xmpp is still connected, under its nick, in no channel.
        let start = await bobLog.events.count
        bob.send("WHOIS alice_xmpp")
        try await bobLog.waitFor("end of whois", from: start) { if case .numeric(318, _, _) = $0 { return true }; return false }
        let whois = await bobLog.events.dropFirst(start)
        XCTAssertTrue(whois.contains { if case .numeric(311, _, let p) = $0 { return p.dropFirst().first == "alice_xmpp" }; return false })
        XCTAssertFalse(whois.contains { if case .numeric(319, _, _) = $0 { return true }; return false }, "alice_xmpp is in a channel")
        XCTAssertFalse(whois.contains { if case .numeric(401, _, _) = $0 { return true }; return false })
        // And bob saw no other command from alice.
        let other = await bobLog.count {
            if case .message(let kind, _, let origin?, _) = $0, origin.hasPrefix("alice_xmpp!") { return kind != .privmsg }
            return false
        }
        XCTAssertEqual(other, 0)
    }

    func testMessageToMissingNickIsAFailedDelivery() async throws {
        server = try NgircdTestServer()
        let (bridge, sink) = try await startBridge()

        let id = try await send(bridge, to: "nobody_here%127.0.0.1", "anyone?")
        let legacyID = try XCTUnwrap(id)
        let event = try await sink.waitFor("delivery failure") {
            if case .delivery("alice@localhost", legacyID, .refused) = $0 { return true }
            return false
        }
        XCTAssertEqual(event, .delivery(user: "alice@localhost", legacyMessageID: legacyID, outcome: .refused(.itemNotFound, "No such nick: nobody_here")))
    }

    func testConnectionFailureIsARemoteServerError() async throws {
        // Nothing listens on this port.
        let port = try NgircdTestServer.freeLoopbackPort()
        let (_, condition, _) = try await refusalOfAFirstMessage(port: port, connectTimeout: .seconds(5))
        XCTAssertEqual(condition, .remoteServerTimeout)
    }

    func testAServerThatNeverSpeaksTimesOut() async throws {
        let silent = try SilentListener()
        let (bridge, condition, text) = try await refusalOfAFirstMessage(port: silent.port, connectTimeout: .milliseconds(300))
        XCTAssertEqual(condition, .remoteServerTimeout)
        XCTAssertTrue(text.contains("within"), text)
        let turns = await bridge.connectTurnCounts
        XCTAssertEqual(turns.holding + turns.waiting, 0, "the timed-out connection gave its turn back")
    }

    /// Alice sends a first message to a server at `port`; the send does not wait for the
    /// connection, so its failure comes as the message's delivery report.
    private func refusalOfAFirstMessage(port: UInt16, connectTimeout: Duration) async throws -> (IRCBridge, StanzaError.Condition, String) {
        group = IRCLoopGroup(threads: 1)
        let bridge = IRCBridge(identity: BridgeIdentity(domain: "irc.localhost", name: "IRC", gatewayType: "irc"),
                               settings: IRCBridgeSettings(defaultPort: port, throttle: .unlimited, connectTimeout: connectTimeout),
                               loops: group!)
        bridges.append(bridge)
        let sink = RecordingSink()
        await bridge.start(events: sink)
        try await bridge.logIn(alice)
        let sent = try await send(bridge, to: "bob%127.0.0.1", "hi")
        let legacyID = try XCTUnwrap(sent)
        let event = try await sink.waitFor("the failed delivery") {
            if case .delivery("alice@localhost", legacyID, .refused) = $0 { return true }
            return false
        }
        guard case .delivery(_, _, .refused(let condition, let text)) = event else {
            throw TestTimeout.expired("not a refusal: \(event)")
        }
        return (bridge, condition, text)
    }

    /// A WHOIS the server never answers fails after the timeout, and only then: the timer of
    /// an earlier, answered WHOIS of the same nick is cancelled, so it cannot cut the next short.
    func testAnUnansweredWhoisTimesOutOnItsOwnTimer() async throws {
        let fake = try await FakeSASLServer.start(script: .init(whoisAnswers: 1), group: MultiThreadedEventLoopGroup.singleton)
        defer { fake.close() }
        group = IRCLoopGroup(threads: 1)
        var settings = IRCBridgeSettings(defaultPort: UInt16(fake.port), throttle: .unlimited, connectTimeout: .seconds(10))
        settings.whoisTimeout = .milliseconds(800)
        let bridge = IRCBridge(identity: BridgeIdentity(domain: "irc.localhost", name: "IRC", gatewayType: "irc"), settings: settings, loops: group!)
        bridges.append(bridge)
        await bridge.start(events: RecordingSink())
        try await bridge.logIn(alice)

        let answered = try await bridge.lookUpContact("bob%127.0.0.1", for: alice)
        XCTAssertEqual(answered.fullName, "Real bob")
        try await Task.sleep(for: .milliseconds(400))  // the first WHOIS's timer would fire 400 ms into the second
        let started = ContinuousClock.now
        do {
            _ = try await bridge.lookUpContact("bob%127.0.0.1", for: alice)
            XCTFail("the server never answers the second WHOIS")
        } catch {
            XCTAssertEqual(error.condition, .remoteServerTimeout)
            XCTAssertTrue(error.text.contains("WHOIS"), error.text)
        }
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(700), "failed by the first WHOIS's timer")
    }

    // MARK: - Connect turns

    private func account(_ name: String) -> BridgeAccount {
        BridgeAccount(user: "\(name)@localhost", record: RegistrationRecord(legacyID: nil, fields: ["nick": "\(name)_xmpp"]))
    }

    private func makeBridge(port: UInt16, simultaneousConnects: Int, sink: some BridgeEventSink = RecordingSink()) async -> IRCBridge {
        if group == nil { group = IRCLoopGroup(threads: 1) }
        var settings = IRCBridgeSettings(defaultPort: port, throttle: .unlimited, connectTimeout: .seconds(30))
        settings.simultaneousConnects = simultaneousConnects
        let bridge = IRCBridge(identity: BridgeIdentity(domain: "irc.localhost", name: "IRC", gatewayType: "irc"),
                               settings: settings, loops: group!)
        bridges.append(bridge)
        await bridge.start(events: sink)
        return bridge
    }

    func testABurstOfNewConnectionsTakesTurnsAndEveryMessageArrives() async throws {
        server = try NgircdTestServer()
        let bridge = await makeBridge(port: server!.port, simultaneousConnects: 2)
        let (bob, bobLog) = try await connectPeer("bob_irc")
        defer { withExtendedLifetime(bob) {} }
        let users = (0..<24).map { account("u\($0)") }
        for user in users { try await bridge.logIn(user) }

        try await withThrowingTaskGroup(of: Void.self) { sends in
            for user in users {
                sends.addTask {
                    _ = try await bridge.send(OutgoingMessage(to: "bob_irc%127.0.0.1", body: "hi from \(user.user)", xmppID: "x"), from: user)
                }
            }
            try await sends.waitForAll()
        }
        for user in users {
            let nick = user.record.fields["nick"]!
            try await bobLog.waitFor("\(nick)'s message") {
                if case .message(.privmsg, _, let origin?, let params) = $0 { return origin.hasPrefix("\(nick)!") && params.last == "hi from \(user.user)" }
                return false
            }
        }
        let waiting = await bridge.connectTurnCounts.waiting
        XCTAssertEqual(waiting, 0)
    }

    func testAConnectionWaitingForItsTurnEndsWhenItsUserLogsOut() async throws {
        // A server that accepts TCP and never says a word: the first connection keeps its turn.
        let silent = try SilentListener()
        let sink = RecordingSink()
        let bridge = await makeBridge(port: silent.port, simultaneousConnects: 1, sink: sink)
        let first = account("first"), second = account("second")
        try await bridge.logIn(first)
        try await bridge.logIn(second)
        let firstID = try await bridge.send(OutgoingMessage(to: "bob%127.0.0.1", body: "1", xmppID: "1"), from: first)
        try await waitUntil("the first connection holds the turn") { await bridge.connectTurnCounts.holding == 1 }
        let secondID = try await bridge.send(OutgoingMessage(to: "bob%127.0.0.1", body: "2", xmppID: "2"), from: second)
        try await waitUntil("the second connection waits") { await bridge.connectTurnCounts.waiting == 1 }

        await bridge.logOut(user: second.user)
        try await sink.waitFor("the second message refused at logout, long before the 30 s timeout", timeout: .seconds(10)) {
            if case .delivery(second.user, secondID, .refused) = $0 { return true }
            return false
        }
        let left = await bridge.connectTurnCounts.waiting
        XCTAssertEqual(left, 0)

        // The turn is still the first connection's; when it ends, a newcomer goes at once.
        await bridge.logOut(user: first.user)
        try await sink.waitFor("the first message refused", timeout: .seconds(10)) {
            if case .delivery(first.user, firstID, .refused) = $0 { return true }
            return false
        }
        let third = account("third")
        try await bridge.logIn(third)
        let thirdID = try await bridge.send(OutgoingMessage(to: "bob%127.0.0.1", body: "3", xmppID: "3"), from: third)
        try await waitUntil("the third connection holds the turn") { await bridge.connectTurnCounts.holding == 1 }
        await bridge.logOut(user: third.user)
        try await sink.waitFor("the third message refused", timeout: .seconds(10)) {
            if case .delivery(third.user, thirdID, .refused) = $0 { return true }
            return false
        }
    }

    /// A logout while the connection is still being planned (a new registration logs out and in
    /// again) ends the opening: no connection with the old registration outlives the logout.
    func testALogoutWhileTheConnectionIsPlannedOpensNoConnection() async throws {
        let silent = try SilentListener()
        if group == nil { group = IRCLoopGroup(threads: 1) }
        let settings = IRCBridgeSettings(defaultPort: silent.port, throttle: .unlimited, connectTimeout: .seconds(30))
        let bridge = IRCBridge(identity: BridgeIdentity(domain: "irc.localhost", name: "IRC", gatewayType: "irc"),
                               settings: settings, loops: group!)
        bridges.append(bridge)
        let sink = GatedSettingsSink()
        await bridge.start(events: sink)
        try await bridge.logIn(alice)
        let legacyID = try await send(bridge, to: "bob%127.0.0.1", "hello")
        try await waitUntil("the plan asking for alice's settings") { await sink.waiting == 1 }

        await bridge.logOut(user: alice.user)
        await sink.answerAll()
        // The listener never answers: a connection opened anyway would end only at the 30 s timeout.
        try await waitUntil("the message refused, not sent on a connection opened after the logout", timeout: .seconds(10)) {
            await sink.deliveries.contains { $0.legacyMessageID == legacyID && $0.refused }
        }
        let turns = await bridge.connectTurnCounts
        XCTAssertEqual(turns.holding + turns.waiting, 0, "no connection was started")
    }

    private func waitUntil(_ what: String, timeout: Duration = .seconds(10), _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !(await condition()) {
            guard ContinuousClock.now < deadline else { throw TestTimeout.expired("\(what): not within \(timeout)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func testLinesArePacedByTheTokenBucket() async throws {
        server = try NgircdTestServer()
        // Two at once, then one every 250 ms: five lines take at least 750 ms.
        let (bridge, _) = try await startBridge(throttle: TokenBucket(capacity: 2, refillPerSecond: 4))
        let (bob, bobLog) = try await connectPeer("bob_irc")
        defer { bob.close() } // keeps bob connected until the end
        _ = try await send(bridge, to: "bob_irc%127.0.0.1", "warm up") // registration done before timing
        try await bobLog.waitForCount("warm-up", 1) { Self.privmsgFromAlice($0) != nil }
        try await Task.sleep(for: .milliseconds(600)) // refill the bucket

        let started = ContinuousClock.now
        _ = try await send(bridge, to: "bob_irc%127.0.0.1", "1\n2\n3\n4\n5")
        try await bobLog.waitForCount("five lines", 6) { Self.privmsgFromAlice($0) != nil }
        let elapsed = ContinuousClock.now - started
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(700))
        let texts = await bobLog.events.compactMap { Self.privmsgFromAlice($0)?.last }
        XCTAssertEqual(texts, ["warm up", "1", "2", "3", "4", "5"])
    }
}
