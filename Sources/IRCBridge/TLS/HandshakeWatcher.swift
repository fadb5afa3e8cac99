// The TLS half of opening an `IRCTLSRelay`: waits for the handshake, then insists that the
// certificate names the server by DNS name (NIOSSL alone would also accept an IP SAN for the
// connected address). Separate from the relay because it is the one piece of TLS policy.

import NIOCore
import NIOSSL
import NIOTLS  // TLSUserEvent; a dependency of NIOSSL

struct HandshakeTimeout: Error {
    var seconds: Int64
}

/// The certificate has no DNS name matching the server name.
struct NameMismatch: Error {}

/// NIOSSL also accepts a certificate whose IP SAN matches the connected address even when a
/// host name was asked for; for a name we require a matching DNS SAN (leftmost-label wildcard
/// allowed), so a certificate for the address DNS pointed us to is not enough.
func certificate(_ certificate: NIOSSLCertificate, hasDNSName name: String) -> Bool {
    let wanted = Array((name.hasSuffix(".") ? String(name.dropLast()) : name).lowercased().utf8)
    for san in certificate._subjectAlternativeNames() where san.nameType == .dnsName {
        let pattern = Array(String(decoding: Array(san.contents), as: UTF8.self).lowercased().utf8)
        if pattern == wanted { return true }
        // "*.example.org" matches exactly one leftmost label.
        if pattern.count > 2, pattern[0] == UInt8(ascii: "*"), pattern[1] == UInt8(ascii: "."),
           let dot = wanted.firstIndex(of: UInt8(ascii: ".")), dot > 0,
           Array(wanted[dot...]) == Array(pattern[1...]) {
            return true
        }
    }
    return false
}

/// Reports the end of the TLS handshake (or its failure) once.
final class HandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<Void>
    private let timeout: TimeAmount
    private let requiredDNSName: String?
    private var done = false
    private var timer: Scheduled<Void>?

    init(promise: EventLoopPromise<Void>, timeout: TimeAmount, requiredDNSName: String?) {
        self.promise = promise
        self.timeout = timeout
        self.requiredDNSName = requiredDNSName
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        let promise = promise
        let seconds = timeout.nanoseconds / 1_000_000_000
        timer = context.eventLoop.scheduleTask(in: timeout) {
            promise.fail(HandshakeTimeout(seconds: seconds))
            channel.close(promise: nil)
        }
    }

    private func finish(_ result: Result<Void, any Error>) {
        guard !done else { return }
        done = true
        timer?.cancel()
        promise.completeWith(result)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            if let name = requiredDNSName {
                let peer = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate
                guard let peer, certificate(peer, hasDNSName: name) else {
                    finish(.failure(NameMismatch()))
                    context.close(promise: nil)
                    return
                }
            }
            finish(.success(()))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.eof))
        context.fireChannelInactive()
    }
}
