import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns a server name into an IP literal for ``IRCConnectionConfig``.
///
/// libircclient resolves names with a blocking `gethostbyname()`, which would stall every
/// session on its loop thread; the IRC engine therefore only accepts IP literals. This resolver
/// runs `getaddrinfo` on a thread of its own (neither a loop thread nor Swift's cooperative
/// pool, which has only as many threads as cores) and resumes the caller when it returns.
public enum IRCHostResolver {
    /// Why a name could not be resolved.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var reason: String
        public var description: String { "\(host): \(reason)" }
    }

    /// Whether `host` is already an IPv4 or IPv6 literal.
    public static func isIPLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// The addresses of `host` in `getaddrinfo`'s order (RFC 6724 preference); an IP literal
    /// is returned as it is, without a lookup.
    public static func resolve(_ host: String) async throws(Failure) -> [String] {
        if isIPLiteral(host) { return [host] }
        let result: Result<[String], Failure> = await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: lookup(host))
            }
            thread.name = "causeway-dns"
            thread.start()
        }
        return try result.get()
    }

    /// The blocking lookup; runs on the resolver thread.
    static func lookup(_ host: String) -> Result<[String], Failure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &list)
        guard rc == 0 else {
            let reason = gai_strerror(rc).map { String(cString: $0) } ?? "error \(rc)"
            return .failure(Failure(host: host, reason: reason))
        }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var cursor = list
        while let entry = cursor {
            defer { cursor = entry.pointee.ai_next }
            guard let sa = entry.pointee.ai_addr else { continue }
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(sa, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !addresses.contains(text) { addresses.append(text) }
            }
        }
        guard !addresses.isEmpty else { return .failure(Failure(host: host, reason: "no address")) }
        return .success(addresses)
    }
}
