// The libircclient engine against a real ngircd on loopback.

import Dispatch
import Foundation
import GatewayCore
import Synchronization
import XCTest
@testable import IRCBridge

final class IRCLoopTests: XCTestCase {
    private var server: NgircdTestServer?
    private var group: IRCLoopGroup?

    override func tearDown() {
        group?.shutdown()
        group = nil
        server?.stop()
        server = nil
        super.tearDown()
    }

    private func config(_ nick: String, port: UInt16? = nil) -> IRCConnectionConfig {
        IRCConnectionConfig(host: "127.0.0.1", port: port ?? server!.port, nick: nick,
                            username: "cw", realname: "Causeway test \(nick)",
                            registrationTimeout: .seconds(15))
    }

    func testTwoSessionsOnOneLoopJoinAndExchangePrivmsg() async throws {
        server = try NgircdTestServer()
        let group = IRCLoopGroup(threads: 1)
        self.group = group
        let alice = group.makeSession(label: "alice")
        let bob = group.makeSession(label: "bob")
        XCTAssertEqual(alice.loopIndex, bob.loopIndex)
        let aliceLog = EventLog(alice.events)
        let bobLog = EventLog(bob.events)

        alice.connect(config("alice_causeway"))
        bob.connect(config("bob_causeway"))
        try await aliceLog.waitFor("alice registered") { $0.isConnected }
        try await bobLog.waitFor("bob registered") { $0.isConnected }
        // RPL_WELCOME arrived as a numeric with raw params.
        let welcome = await aliceLog.count { if case .numeric(1, _, let p) = $0 { return p.first == "alice_causeway" }; return false }
        XCTAssertEqual(welcome, 1)
        // Registration is reported once the server has said what it supports and ended its MOTD.
        let events = await aliceLog.events
        let registeredAt = try XCTUnwrap(events.firstIndex { $0.isConnected })
        let isupportAt = try XCTUnwrap(events.firstIndex { if case .numeric(5, _, _) = $0 { return true }; return false })
        let motdEndAt = try XCTUnwrap(events.firstIndex { if case .numeric(let code, _, _) = $0 { return code == 376 || code == 422 }; return false })
        XCTAssertLessThan(isupportAt, registeredAt)
        XCTAssertEqual(motdEndAt + 1, registeredAt)

        alice.send("JOIN #causeway")
        try await aliceLog.waitFor("alice join") {
            if case .message(.join, _, let origin, let params) = $0 {
                return origin?.hasPrefix("alice_causeway!") == true && params.first == "#causeway"
            }
            return false
        }
        bob.send("JOIN #causeway")
        // Alice sees Bob join with a full prefix (STRIPNICKS off).
        try await aliceLog.waitFor("bob join seen by alice") {
            if case .message(.join, "JOIN", let origin?, ["#causeway"]) = $0 {
                return origin.hasPrefix("bob_causeway!") && origin.contains("@")
            }
            return false
        }

        alice.send("PRIVMSG #causeway :hello channel 100% ünïcode")
        try await bobLog.waitFor("channel message") {
            if case .message(.channel, "CHANNEL", let origin?, let params) = $0 {
                return origin.hasPrefix("alice_causeway!") && params == ["#causeway", "hello channel 100% ünïcode"]
            }
            return false
        }
        bob.send("PRIVMSG alice_causeway :hi alice")
        try await aliceLog.waitFor("private message") {
            if case .message(.privmsg, _, let origin?, let params) = $0 {
                return origin.hasPrefix("bob_causeway!") && params == ["alice_causeway", "hi alice"]
            }
            return false
        }
        bob.send("PRIVMSG alice_causeway :\u{01}ACTION waves\u{01}")
        try await aliceLog.waitFor("ctcp action") {
            if case .message(.ctcpAction, _, _, let params) = $0 { return params.last == "waves" }
            return false
        }
        bob.send("NOTICE alice_causeway :a notice")
        try await aliceLog.waitFor("notice") {
            if case .message(.notice, _, _, let params) = $0 { return params.last == "a notice" }
            return false
        }

        // Clean QUIT: requested, no error.
        bob.disconnect(quitMessage: "bye")
        try await bobLog.waitFor("bob disconnected") {
            if case .disconnected(nil, true, 0) = $0 { return true }
            return false
        }
        try await aliceLog.waitFor("alice sees quit") {
            if case .message(.quit, _, let origin?, let params) = $0 {
                return origin.hasPrefix("bob_causeway!") && params.last?.contains("bye") == true
            }
            return false
        }
        alice.close()
        try await aliceLog.waitFor("alice closed") { $0.isDisconnected }
        let deadline = ContinuousClock.now + .seconds(5)
        while await !aliceLog.isFinished, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let finished = await aliceLog.isFinished
        XCTAssertTrue(finished, "close() finishes the event stream")
    }

    func testFiftySessionsOnTwoLoopThreads() async throws {
        server = try NgircdTestServer()
        // Warm the cooperative pool so its threads are counted in the baseline.
        await withTaskGroup(of: Void.self) { tasks in
            for _ in 0..<8 { tasks.addTask { try? await Task.sleep(for: .milliseconds(20)) } }
        }
        let before = threadCount()
        let group = IRCLoopGroup(threads: 2)
        self.group = group

        var sessions: [IRCSession] = []
        var logs: [EventLog] = []
        for i in 0..<50 {
            let session = group.makeSession(label: "u\(i)")
            sessions.append(session)
            logs.append(EventLog(session.events))
            session.connect(config("load_user_\(i)"))
        }
        XCTAssertEqual(group.loops.map(\.sessionCount), [25, 25], "least-loaded assignment")
        for (i, log) in logs.enumerated() {
            try await log.waitFor("session \(i) registered", timeout: .seconds(30)) { $0.isConnected }
        }
        let during = threadCount()
        print("threads: before \(before), with 50 connected sessions \(during)")
        // Other tests' threads come and go in this process, so only a bound far below one thread
        // per connection (50) is meaningful here.
        XCTAssertLessThan(during - before, 10, "no thread per connection")

        // Everyone on both loops can talk to everyone.
        sessions[0].send("JOIN #load")
        try await logs[0].waitFor("u0 joined") {
            if case .message(.join, _, let o?, _) = $0 { return o.hasPrefix("load_user_0!") }
            return false
        }
        sessions[49].send("JOIN #load")
        try await logs[0].waitFor("u49 join seen") {
            if case .message(.join, _, let o?, _) = $0 { return o.hasPrefix("load_user_49!") }
            return false
        }
        sessions[49].send("PRIVMSG #load :from the other loop")
        try await logs[0].waitFor("cross-loop message") {
            if case .message(.channel, _, _, let p) = $0 { return p.last == "from the other loop" }
            return false
        }

        for session in sessions { session.close() }
        for log in logs { try await log.waitFor("closed") { $0.isDisconnected } }
        let deadline = ContinuousClock.now + .seconds(5)
        while group.loops.contains(where: { $0.sessionCount != 0 }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTAssertEqual(group.loops.map(\.sessionCount), [0, 0])
        group.shutdown()
        self.group = nil
        XCTAssertLessThanOrEqual(threadCount(), during - 2, "loop threads joined on shutdown")
    }

    func testServerStopReportsDisconnectAndSessionReconnects() async throws {
        server = try NgircdTestServer()
        let (session, log) = try await registeredSession("victim", threads: 2)

        server!.stop()
        let index = try await log.waitFor("disconnect after server stop", timeout: .seconds(10)) {
            if case .disconnected(let error?, false, _) = $0 {
                return error.code == IRCError.closed || error.code == IRCError.terminated
            }
            return false
        }

        // Sending while disconnected is reported, not crashed on.
        session.send("PRIVMSG nobody :x")
        try await log.waitFor("send failed", from: index) {
            if case .sendFailed(_, let e) = $0 { return e.code == IRCError.invalidState }
            return false
        }

        // Reconnect the same IRCSession to a new server (a fresh libircclient session inside).
        server = try NgircdTestServer()
        session.connect(config("victim"))
        try await log.waitFor("registered again", from: index) { $0.isConnected }
    }

    func testSessionSocketsSendWithoutNagle() async throws {
        server = try NgircdTestServer()
        let (session, _) = try await registeredSession("nodelay", threads: 1)

        let sockets = Self.descriptorsConnected(toPort: server!.port)
        XCTAssertEqual(sockets.count, 1, "the session's one socket to the server")
        for fd in sockets {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            XCTAssertEqual(getsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length), 0)
            XCTAssertEqual(value, 1, "TCP_NODELAY on descriptor \(fd)")
        }
        withExtendedLifetime(session) {}
    }

    /// A sender writes its lines itself; when the socket takes only part of them, the rest
    /// (cut anywhere, inside a UTF-8 sequence too) reaches the server intact and in order.
    func testWritesTheSocketCutsArriveWhole() async throws {
        let server = try SlowReadingServer()
        let (session, _) = try await registeredSession("slow", port: server.port, threads: 1) {
            try server.register(nick: "slow")
        }
        let loop = group!.loops[0]
        for fd in Self.descriptorsConnected(toPort: server.port) {
            var small: Int32 = 4096
            XCTAssertEqual(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, socklen_t(MemoryLayout<Int32>.size)), 0)
        }

        var sent: [String] = []
        var received: [String] = []
        for cycle in 1...3 {
            // The server reads nothing until a write was cut; lines of varying length put the
            // cut at varying places.
            let cutsBefore = loop.partialDirectWrites.load(ordering: .relaxed)
            var count = 0
            while loop.partialDirectWrites.load(ordering: .relaxed) == cutsBefore, count < 5000 {
                // Several lines per write, as a batch sends them: a write of one short line
                // goes into one buffer of the kernel's whole, or not at all.
                let lines = (count..<count + 16).map {
                    "PRIVMSG peer :\(cycle).\($0) " + String(repeating: "é€", count: 40 + $0 % 97)
                }
                session.send(lines: lines)
                sent += lines
                count += lines.count
            }
            XCTAssertGreaterThan(loop.partialDirectWrites.load(ordering: .relaxed), cutsBefore,
                                 "cycle \(cycle): no write was cut after \(count) lines")
            // Lines sent while the rest waits queue behind it.
            for extra in 0..<3 {
                let line = "PRIVMSG peer :\(cycle) after the cut \(extra)"
                session.send(line)
                sent.append(line)
            }
            while received.count < sent.count {
                received += try server.read(atMost: 1500).filter { !$0.isEmpty }
            }
        }
        XCTAssertEqual(received.count, sent.count)
        XCTAssertEqual(received.firstIndex { !sent.contains($0) }, nil, "a line arrived changed")
        XCTAssertEqual(received, sent)
        withExtendedLifetime(session) {}
    }

    /// This process's TCP sockets whose peer is 127.0.0.1:`port`.
    private static func descriptorsConnected(toPort port: UInt16) -> [Int32] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return [] }
        return names.compactMap(Int32.init).filter { fd in
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
            }
            return named == 0 && address.sin_family == sa_family_t(AF_INET) && UInt16(bigEndian: address.sin_port) == port
        }
    }

    func testConnectionRefusedAndNonLiteralHostAreReported() async throws {
        let group = IRCLoopGroup(threads: 1)
        self.group = group
        let session = group.makeSession()
        let log = EventLog(session.events)
        let port = try NgircdTestServer.freeLoopbackPort()  // nothing listens there
        session.connect(IRCConnectionConfig(host: "127.0.0.1", port: port, nick: "nobody"))
        try await log.waitFor("refused") {
            if case .disconnected(let e?, false, _) = $0 { return e.code == IRCError.connectFailed }
            return false
        }
        session.connect(IRCConnectionConfig(host: "irc.example.org", port: 6667, nick: "nobody"))
        try await log.waitFor("hostname rejected") {
            if case .disconnected(let e?, false, _) = $0 { return e.code == IRCError.invalidArgument }
            return false
        }
        session.send("bad\r\nQUIT")
        try await log.waitFor("CRLF rejected") {
            if case .sendFailed(_, let e) = $0 { return e.code == IRCError.invalidArgument }
            return false
        }
    }

    func testConcurrentSendersFromManyTasks() async throws {
        let (sender, senderLog, receiver, receiverLog) = try await registeredPair("flood_sender", "flood_receiver", threads: 2)
        defer { withExtendedLifetime(receiver) {} }

        let tasks = 8, perTask = 100
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<tasks {
                group.addTask {
                    for i in 0..<perTask {
                        sender.send("PRIVMSG flood_receiver :task \(t) line \(i) % padding padding padding padding")
                        if i % 10 == 0 { await Task.yield() }
                    }
                }
            }
        }
        // 800 lines (~70 KB) go far beyond libircclient's outgoing buffer: the outbox
        // must feed it as it drains, losing nothing.
        try await receiverLog.waitForCount("all lines", tasks * perTask, timeout: .seconds(30)) {
            if case .message(.privmsg, _, _, let p) = $0 { return p.last?.hasPrefix("task ") == true }
            return false
        }
        // Per task, order is preserved.
        let texts = await privmsgTexts(receiverLog)
        for t in 0..<tasks {
            let mine = texts.filter { $0.hasPrefix("task \(t) ") }
            XCTAssertEqual(mine, (0..<perTask).map { "task \(t) line \($0) % padding padding padding padding" })
        }
        let failures = await senderLog.count { if case .sendFailed = $0 { return true }; return false }
        XCTAssertEqual(failures, 0)
    }

    /// Lines sent while an output batch is current wait for its end and then go in one
    /// hand-over; a send outside the batch meanwhile takes them along first, so order holds.
    func testLinesOfAnOutputBatchAreHeldUntilItEnds() async throws {
        let (sender, _, receiver, receiverLog) = try await registeredPair("batch_sender", "batch_receiver", threads: 1)
        defer { withExtendedLifetime(receiver) {} }

        let first = OutputBatch()
        OutputBatch.$current.withValue(first) {
            for i in 1...3 { sender.send(lines: ["PRIVMSG batch_receiver :line \(i)"], batchable: true) }
        }
        XCTAssertEqual(sender.heldLineCount, 3, "held until the batch ends")
        first.end()
        XCTAssertEqual(sender.heldLineCount, 0)

        let second = OutputBatch()
        OutputBatch.$current.withValue(second) {
            sender.send(lines: ["PRIVMSG batch_receiver :line 4"], batchable: true)
            sender.send("PRIVMSG batch_receiver :not held")  // not batchable: goes at once, after line 4
        }
        XCTAssertEqual(sender.heldLineCount, 0, "a line that is not batchable takes held ones along")
        OutputBatch.$current.withValue(second) { sender.send(lines: ["PRIVMSG batch_receiver :line 5"], batchable: true) }
        XCTAssertEqual(sender.heldLineCount, 1)
        sender.send("PRIVMSG batch_receiver :line 6")  // outside the batch: takes line 5 along
        XCTAssertEqual(sender.heldLineCount, 0)
        second.end()  // nothing left to release
        OutputBatch.$current.withValue(second) { sender.send(lines: ["PRIVMSG batch_receiver :line 7"], batchable: true) }
        XCTAssertEqual(sender.heldLineCount, 0, "an ended batch holds nothing")

        try await receiverLog.waitForCount("all lines", 8, timeout: .seconds(15)) {
            if case .message(.privmsg, _, _, let p) = $0 { return p.last?.hasPrefix("line ") == true || p.last == "not held" }
            return false
        }
        let texts = await privmsgTexts(receiverLog)
        XCTAssertEqual(texts, ["line 1", "line 2", "line 3", "line 4", "not held", "line 5", "line 6", "line 7"])
    }

    /// A send to a loop that waits in select() is written by the sending thread, without waking
    /// the loop; lines still arrive complete and in order.
    func testSendsToAnIdleLoopAreWrittenByTheSender() async throws {
        // Two loop threads: the receiver's reads keep the other loop busy, not the sender's.
        let (sender, _, receiver, receiverLog) = try await registeredPair("direct_sender", "direct_receiver", threads: 2)
        defer { withExtendedLifetime(receiver) {} }
        XCTAssertNotEqual(sender.loopIndex, receiver.loopIndex)
        let loop = group!.loops[sender.loopIndex]
        let before = loop.directJobs.load(ordering: .relaxed)

        for i in 1...20 {
            sender.send("PRIVMSG direct_receiver :direct \(i)")
            try await receiverLog.waitForCount("line \(i)", i) {
                if case .message(.privmsg, _, _, let p) = $0 { return p.last?.hasPrefix("direct ") == true }
                return false
            }
        }
        let texts = await privmsgTexts(receiverLog)
        XCTAssertEqual(texts, (1...20).map { "direct \($0)" })
        // The loop takes its lock for a moment every select() timeout; a send meeting it is
        // queued instead, which is rare, not wrong.
        XCTAssertGreaterThanOrEqual(loop.directJobs.load(ordering: .relaxed) - before, 15)
    }

    /// `perform` never overtakes: while the loop thread runs a job or one waits in the queue, it
    /// queues behind them; on an idle loop it runs at once on the caller's thread.
    func testPerformKeepsSubmissionOrder() throws {
        let group = IRCLoopGroup(threads: 1, selectTimeoutMilliseconds: 10_000)
        self.group = group
        let loop = group.loops[0]
        let order = Mutex<[String]>([])
        let entered = DispatchSemaphore(value: 0)
        let proceed = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)

        loop.submit {
            entered.signal()
            proceed.wait()
            order.withLock { $0.append("first") }
        }
        XCTAssertEqual(entered.wait(timeout: .now() + 5), .success)
        loop.submit { order.withLock { $0.append("second") } }
        loop.perform { direct in
            order.withLock { $0.append("third, direct: \(direct)") }
            done.signal()
        }
        proceed.signal()
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(order.withLock { $0 }, ["first", "second", "third, direct: false"])

        // Once the loop is back in select(), a job runs before perform returns.
        let deadline = ContinuousClock.now + .seconds(5)
        var ranDirectly = false
        while !ranDirectly, ContinuousClock.now < deadline {
            let ran = Mutex(false)
            loop.perform { direct in ran.withLock { $0 = direct } }
            ranDirectly = ran.withLock { $0 }
        }
        XCTAssertTrue(ranDirectly, "an idle loop lets the caller run the job")
    }

    /// A sender may write a session's buffered lines between the loop's select() and its turn
    /// with the engine lock; the loop must not then act on select()'s stale "writable" (an empty
    /// write counts as a failure in libircclient, a full socket would make it spin).
    func testASenderWritingAfterSelectLeavesTheLoopNothingStale() async throws {
        let (sender, senderLog, receiver, receiverLog) = try await registeredPair("stale_sender", "stale_receiver", threads: 1)
        defer { withExtendedLifetime(receiver) {} }
        let loop = group!.loops[sender.loopIndex]
        let fired = Mutex(0)
        loop.afterSelect.withLock { hook in
            hook = {
                // On the loop thread, outside the lock: exactly where another thread could be.
                guard fired.withLock({ $0 += 1; return $0 <= 20 }) else { return }
                sender.send("PRIVMSG stale_receiver :direct after select")
            }
        }
        // Queued lines reach libircclient's buffer on the loop thread, so its next select()
        // watches the socket for writing and returns at once.
        for i in 1...20 {
            loop.submit { sender.core.send(["PRIVMSG stale_receiver :queued \(i)"], direct: false) }
        }
        try await receiverLog.waitForCount("every line", 40, timeout: .seconds(15)) {
            if case .message(.privmsg, _, _, let p) = $0 { return p.last?.hasPrefix("queued ") == true || p.last == "direct after select" }
            return false
        }
        loop.afterSelect.withLock { $0 = nil }
        let ends = await senderLog.count { if case .disconnected = $0 { return true }; return false }
        XCTAssertEqual(ends, 0, "the connection stays up")
        let queued = await privmsgTexts(receiverLog).filter { $0.hasPrefix("queued ") }
        XCTAssertEqual(queued, (1...20).map { "queued \($0)" })
    }

    /// A server that dies while lines are being sent ends the connection once, with an error;
    /// lines after that are reported as not sent; nothing crashes (no SIGPIPE either).
    func testServerDyingDuringAFloodEndsTheConnectionOnce() async throws {
        let (sender, senderLog, receiver, _) = try await registeredPair("dying_sender", "dying_receiver", threads: 2)
        defer { withExtendedLifetime(receiver) {} }
        let flood = Task.detached {
            for i in 0..<3000 {
                sender.send("PRIVMSG dying_receiver :flood \(i) padding padding padding padding padding")
                if i % 50 == 0 { await Task.yield() }
            }
        }
        server!.stop()
        await flood.value
        try await senderLog.waitFor("disconnected", timeout: .seconds(10)) {
            if case .disconnected(_?, false, _) = $0 { return true }
            return false
        }
        sender.send("PRIVMSG dying_receiver :after the end")
        try await senderLog.waitFor("send after the end fails") {
            if case .sendFailed(let line, let e) = $0 { return line.hasSuffix("after the end") && e.code == IRCError.invalidState }
            return false
        }
        let ends = await senderLog.count { if case .disconnected = $0 { return true }; return false }
        XCTAssertEqual(ends, 1)
    }

    /// A session of a new loop group (kept for tearDown), registered with the server at `port`
    /// (the ngircd's by default) after `serve` did the server's part.
    private func registeredSession(_ nick: String, port: UInt16? = nil, threads: Int,
                                   serve: () throws -> Void = {}) async throws -> (IRCSession, EventLog) {
        let group = IRCLoopGroup(threads: threads)
        self.group = group
        let session = group.makeSession()
        let log = EventLog(session.events)
        session.connect(config(nick, port: port))
        try serve()
        try await log.waitFor("\(nick) registered") { $0.isConnected }
        return (session, log)
    }

    /// A fresh ngircd with two registered sessions on a new loop group, each with its events. The
    /// caller keeps both sessions alive: dropping one closes it.
    private func registeredPair(_ senderNick: String, _ receiverNick: String, threads: Int) async throws -> (IRCSession, EventLog, IRCSession, EventLog) {
        server = try NgircdTestServer()
        let group = IRCLoopGroup(threads: threads)
        self.group = group
        let sender = group.makeSession()
        let receiver = group.makeSession()
        let senderLog = EventLog(sender.events)
        let receiverLog = EventLog(receiver.events)
        sender.connect(config(senderNick))
        receiver.connect(config(receiverNick))
        try await senderLog.waitFor("sender registered") { $0.isConnected }
        try await receiverLog.waitFor("receiver registered") { $0.isConnected }
        return (sender, senderLog, receiver, receiverLog)
    }

    /// The texts of the private messages `log` has seen, in order.
    private func privmsgTexts(_ log: EventLog) async -> [String] {
        await log.events.compactMap {
            if case .message(.privmsg, _, _, let p) = $0 { return p.last }
            return nil
        }
    }
}
