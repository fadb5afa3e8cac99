// Test PKI made with the openssl CLI, and ngircd (Debian's build has +SSL) with a TLS port.

import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway CA and a leaf for localhost / 127.0.0.1 signed by it, plus an unrelated CA.
struct TestPKI {
    let directory: URL
    var caFile: String { directory.appendingPathComponent("ca.pem").path }
    var otherCAFile: String { directory.appendingPathComponent("other-ca.pem").path }
    var certFile: String { directory.appendingPathComponent("server.pem").path }
    var keyFile: String { directory.appendingPathComponent("server.key").path }

    static func make() throws -> TestPKI {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else {
            throw XCTSkip("openssl CLI is not installed")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("causeway-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let ext = dir.appendingPathComponent("leaf.ext")
        try """
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature, keyEncipherment
        extendedKeyUsage = serverAuth
        subjectAltName = DNS:localhost, IP:127.0.0.1
        """.write(to: ext, atomically: true, encoding: .utf8)
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for name in ["ca", "other-ca"] {
            try run(["req", "-x509"] + key + ["-keyout", "\(name).key", "-out", "\(name).pem", "-days", "2",
                     "-subj", "/CN=Causeway Test \(name)",
                     "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign"], in: dir)
        }
        try run(["req", "-new"] + key + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], in: dir)
        try run(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", "server.pem", "-days", "2", "-extfile", "leaf.ext"], in: dir)
        return TestPKI(directory: dir)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    private static func run(_ args: [String], in dir: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = args
        process.currentDirectoryURL = dir
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw TestTimeout.expired("openssl \(args.joined(separator: " ")): \(output)")
        }
    }
}

/// ngircd with a plain port and a TLS port, from a temp dir, stopped by PID.
final class TLSNgircdTestServer {
    let plainPort: UInt16
    let tlsPort: UInt16
    let directory: URL
    private var pid: pid_t = 0
    private var running = false

    init(pki: TestPKI) throws {
        guard let binary = NgircdTestServer.binary() else { throw XCTSkip("ngircd is not installed") }
        plainPort = try NgircdTestServer.freeLoopbackPort()
        var tls = try NgircdTestServer.freeLoopbackPort()
        while tls == plainPort { tls = try NgircdTestServer.freeLoopbackPort() }
        tlsPort = tls
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("causeway-ngircd-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = """
        [Global]
        Name = irc.causeway.test
        Info = Causeway TLS test server
        AdminInfo1 = test
        AdminInfo2 = test
        AdminEMail = test@localhost
        Listen = 127.0.0.1
        Ports = \(plainPort)
        MotdPhrase = causeway tls test
        [Limits]
        MaxConnectionsIP = 0
        MaxNickLength = 30
        MaxPenaltyTime = 0
        PingTimeout = 120
        [Options]
        PAM = no
        DNS = no
        Ident = no
        [SSL]
        CertFile = \(pki.certFile)
        KeyFile = \(pki.keyFile)
        Ports = \(tlsPort)
        """
        let configFile = directory.appendingPathComponent("ngircd.conf")
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        pid = try spawn(binary, ["--nodaemon", "--config", configFile.path],
                        log: directory.appendingPathComponent("ngircd.log").path)
        running = true
        let deadline = Date().addingTimeInterval(10)
        while !(NgircdTestServer.canConnect(port: plainPort) && NgircdTestServer.canConnect(port: tlsPort)) {
            if Date() > deadline { throw TestTimeout.expired("ngircd (TLS) did not listen within 10 s: \(logText)") }
            usleep(20_000)
        }
    }

    deinit { stop() }

    var logText: String {
        (try? String(contentsOf: directory.appendingPathComponent("ngircd.log"), encoding: .utf8)) ?? ""
    }

    func stop() {
        guard running else { return }
        running = false
        kill(pid, SIGTERM)
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(5)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(10_000)
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

