// A real ngircd (Debian, 26) started by a test on a free loopback port, from a temp dir,
// stopped by PID. Config per shared/TEST-SERVERS.md.

import Foundation
import XCTest
@testable import IRCBridge

#if canImport(Glibc)
import Glibc
#endif

enum TestTimeout: Error { case expired(String) }

final class NgircdTestServer {
    let port: UInt16
    let directory: URL
    private(set) var pid: pid_t = 0
    private(set) var running = false

    static func binary() -> String? {
        for path in ["/usr/sbin/ngircd", "/usr/bin/ngircd", "/usr/local/sbin/ngircd"]
        where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        return nil
    }

    /// Starts ngircd and waits (bounded) until it accepts connections.
    init(port requested: UInt16? = nil) throws {
        guard let binary = Self.binary() else { throw XCTSkip("ngircd is not installed (apt-get install ngircd)") }
        port = try requested ?? Self.freeLoopbackPort()
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("causeway-ngircd-\(UUID().uuidString)")
        let confDir = directory.appendingPathComponent("conf.d")
        try FileManager.default.createDirectory(at: confDir, withIntermediateDirectories: true)
        let config = """
        [Global]
        Name = irc.causeway.test
        Info = Causeway test server
        AdminInfo1 = test
        AdminInfo2 = test
        AdminEMail = test@localhost
        Listen = 127.0.0.1
        Ports = \(port)
        MotdPhrase = causeway test
        [Limits]
        MaxConnectionsIP = 0
        MaxNickLength = 30
        MaxPenaltyTime = 0
        MaxJoins = 0
        PingTimeout = 120
        [Options]
        PAM = no
        DNS = no
        Ident = no
        IncludeDir = \(confDir.path)
        """
        let configFile = directory.appendingPathComponent("ngircd.conf")
        try config.write(to: configFile, atomically: true, encoding: .utf8)

        let log = directory.appendingPathComponent("ngircd.log")
        pid = try spawn(binary, ["--nodaemon", "--config", configFile.path], log: log.path)
        running = true
        try waitUntilAccepting(timeout: 10)
    }

    deinit { stop() }

    /// Holds the server still (SIGSTOP): the kernel still accepts connections, but the server
    /// answers nothing until ``resume()``.
    func pause() {
        if running { kill(pid, SIGSTOP) }
    }

    func resume() {
        if running { kill(pid, SIGCONT) }
    }

    /// Stops the server by PID: SIGTERM, then SIGKILL if it has not exited within 5 s.
    func stop() {
        guard running else { return }
        running = false
        kill(pid, SIGCONT)  // a paused server would not act on SIGTERM
        kill(pid, SIGTERM)
        if !reap(within: 5) {
            kill(pid, SIGKILL)
            _ = reap(within: 5)
        }
        try? FileManager.default.removeItem(at: directory)
    }

    private func reap(within seconds: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while Date() < deadline {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid || (r < 0 && errno == ECHILD) { return true }
            usleep(10_000)
        }
        return false
    }

    private var isAlive: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    var logText: String {
        (try? String(contentsOf: directory.appendingPathComponent("ngircd.log"), encoding: .utf8)) ?? ""
    }

    private func waitUntilAccepting(timeout: TimeInterval) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if Self.canConnect(port: port) { return }
            if !isAlive { throw TestTimeout.expired("ngircd exited: \(logText)") }
            usleep(20_000)
        }
        throw TestTimeout.expired("ngircd did not listen on \(port) within \(timeout)s: \(logText)")
    }

    static func canConnect(port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    static func freeLoopbackPort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestTimeout.expired("socket") }
        defer { close(fd) }
        return try bindLoopback(fd, listening: false)
    }

    /// Binds `fd` to a free port on 127.0.0.1 (and listens, if asked); returns the port.
    static func bindLoopback(_ fd: Int32, listening: Bool) throws -> UInt16 {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && (!listening || listen(fd, 16) == 0) && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else { throw TestTimeout.expired(listening ? "bind and listen" : "bind") }
        return UInt16(bigEndian: addr.sin_port)
    }
}

/// Drains a session's AsyncStream in the background and lets a test wait, with a deadline,
/// for an event matching a predicate. Never cancels the stream itself.
actor EventLog {
    private(set) var events: [IRCEvent] = []
    private var finished = false

    init(_ stream: AsyncStream<IRCEvent>) {
        Task { [weak self] in
            for await event in stream { await self?.append(event) }
            await self?.finish()
        }
    }

    private func append(_ event: IRCEvent) { events.append(event) }
    private func finish() { finished = true }

    var isFinished: Bool { finished }

    func count(where predicate: @Sendable (IRCEvent) -> Bool) -> Int {
        events.filter(predicate).count
    }

    /// Waits until `predicate` holds for some event at or after `from`; returns its index.
    @discardableResult
    func waitFor(_ what: String, timeout: Duration = .seconds(10), from: Int = 0,
                 _ predicate: @Sendable (IRCEvent) -> Bool) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        var index = from
        while true {
            while index < events.count {
                if predicate(events[index]) { return index }
                index += 1
            }
            if ContinuousClock.now >= deadline {
                throw TestTimeout.expired("\(what): not seen within \(timeout); got \(events.suffix(8))")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits until `count(where:)` reaches `target`.
    func waitForCount(_ what: String, _ target: Int, timeout: Duration = .seconds(10),
                      _ predicate: @Sendable (IRCEvent) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while events.filter(predicate).count < target {
            if ContinuousClock.now >= deadline {
                throw TestTimeout.expired("\(what): \(events.filter(predicate).count)/\(target) within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

extension IRCEvent {
    var isConnected: Bool { if case .connected = self { return true } else { return false } }
    var isDisconnected: Bool { if case .disconnected = self { return true } else { return false } }
}

func threadCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? -1
}

/// A loopback port that completes TCP handshakes (the kernel does) and never accepts or
/// answers: a server that does not speak.
final class SilentListener {
    let port: UInt16
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestTimeout.expired("socket") }
        do {
            port = try NgircdTestServer.bindLoopback(fd, listening: true)
        } catch {
            close(fd)
            throw error
        }
        self.fd = fd
    }

    deinit { close(fd) }
}
