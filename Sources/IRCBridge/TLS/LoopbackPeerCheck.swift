// Who is on the other end of a loopback connection?
//
// The relay's listener is on 127.0.0.1, where any local process (any user) could connect to it
// first. Linux tells which process owns a socket only indirectly: /proc/self/net/tcp lists
// every IPv4 TCP socket of the network namespace with its inode, and /proc/self/fd lists this
// process's descriptors as `socket:[inode]`. A peer is accepted only if the socket with local
// address 127.0.0.1:peerPort and remote address 127.0.0.1:listenerPort has an inode that one
// of OUR descriptors refers to, i.e. the connecting socket lives in this process. This needs no
// cooperation from libircclient (its descriptor is private to the engine) and has no race: the
// connecting socket exists, with its descriptor, before connect() is even called.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum LoopbackPeerCheck {
    /// True if this process owns the TCP socket 127.0.0.1:`peerPort` → 127.0.0.1:`listenerPort`.
    static func isOwnSocket(peerPort: Int, listenerPort: Int) -> Bool {
        #if os(Linux)
        guard let inode = socketInode(localPort: peerPort, remotePort: listenerPort) else { return false }
        return processHasSocket(inode: inode)
        #else
        return false
        #endif
    }

    #if os(Linux)
    /// The inode of the IPv4 socket 127.0.0.1:localPort → 127.0.0.1:remotePort.
    static func socketInode(localPort: Int, remotePort: Int) -> UInt64? {
        guard let text = readProcFile("/proc/self/net/tcp") else { return nil }
        // /proc prints the address as the in-memory (network order) 32-bit word, in host order.
        let loopback = UInt32(0x7F00_0001).bigEndian
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 9,
                  let local = parseEndpoint(fields[1]), let remote = parseEndpoint(fields[2]),
                  local.address == loopback, remote.address == loopback,
                  local.port == localPort, remote.port == remotePort,
                  let inode = UInt64(fields[9]), inode != 0
            else { continue }
            return inode
        }
        return nil
    }

    private static func parseEndpoint(_ field: Substring) -> (address: UInt32, port: Int)? {
        let parts = field.split(separator: ":")
        guard parts.count == 2, let address = UInt32(parts[0], radix: 16), let port = Int(parts[1], radix: 16)
        else { return nil }
        return (address, port)
    }

    /// True if one of this process's descriptors is the socket `inode`.
    static func processHasSocket(inode: UInt64) -> Bool {
        guard let dir = opendir("/proc/self/fd") else { return false }
        defer { closedir(dir) }
        let wanted = Array("socket:[\(inode)]".utf8)
        var buffer = [CChar](repeating: 0, count: 64)
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard name.first?.isNumber == true else { continue }
            let n = readlink("/proc/self/fd/\(name)", &buffer, buffer.count)
            guard n == wanted.count else { continue }
            if buffer.prefix(n).map({ UInt8(bitPattern: $0) }) == wanted { return true }
        }
        return false
    }

    private static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
    #endif
}
