// A bare IRC server for one client on 127.0.0.1: it registers the client (001 and 422) and then
// reads only when a test asks it to, so the client's socket fills up and its writes are cut.

import Foundation

final class SlowReadingServer {
    let port: UInt16
    private let listener: Int32
    private var client: Int32 = -1
    /// Bytes read from the client and not yet split into lines.
    private var unread: [UInt8] = []

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw POSIXError(.EMFILE) }
        // A small receive window (accepted sockets inherit it), so the client's bytes stop early.
        var small: Int32 = 4096
        setsockopt(listener, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 1) == 0
                    && getsockname(listener, pointer, &length) == 0
            }
        }
        guard bound else {
            close(listener)
            throw POSIXError(.EADDRINUSE)
        }
        self.listener = listener
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit {
        if client >= 0 { close(client) }
        close(listener)
    }

    /// Accepts the client, reads its registration and welcomes `nick`.
    func register(nick: String, timeout: Duration = .seconds(10)) throws {
        try waitReadable(listener, timeout: timeout, "a connection")
        client = accept(listener, nil, nil)
        guard client >= 0 else { throw POSIXError(.ECONNABORTED) }
        var lines: [String] = []
        while !lines.contains(where: { $0.hasPrefix("USER ") }) {
            lines += try read(atMost: 4096, timeout: timeout)
        }
        let welcome = ":slow.test 001 \(nick) :Welcome\r\n:slow.test 422 \(nick) :MOTD File is missing\r\n"
        _ = welcome.withCString { write(client, $0, strlen($0)) }
    }

    /// Reads what has arrived, at most `atMost` bytes, waiting up to `timeout` for the first;
    /// returns the complete lines among everything read so far, without their CRLF.
    func read(atMost: Int, timeout: Duration = .seconds(10)) throws -> [String] {
        try waitReadable(client, timeout: timeout, "bytes from the client")
        var buffer = [UInt8](repeating: 0, count: atMost)
        let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, atMost, 0) }
        guard count > 0 else { throw POSIXError(.ECONNRESET) }
        unread += buffer[..<count]
        var lines: [String] = []
        while let newline = unread.firstIndex(of: 0x0A) {
            var line = Array(unread[..<newline])
            if line.last == 0x0D { line.removeLast() }
            unread.removeSubrange(...newline)
            lines.append(String(decoding: line, as: UTF8.self))
        }
        return lines
    }

    private func waitReadable(_ fd: Int32, timeout: Duration, _ what: String) throws {
        var probe = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(timeout.components.seconds * 1000)
        guard poll(&probe, 1, milliseconds) == 1 else { throw TimedOut(what: what, after: timeout) }
    }

    struct TimedOut: Error, CustomStringConvertible {
        let what: String
        let after: Duration
        var description: String { "no \(what) within \(after)" }
    }
}
