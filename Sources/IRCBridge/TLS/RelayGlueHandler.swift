// Pipes bytes between the two channels of an `IRCTLSRelay` (both on one event loop), after
// NIO's GlueHandler example: a side reads only while its partner is writable, so neither side
// buffers more than NIO's write-buffer watermarks. Before pairing, the upstream side stops
// reading and keeps what it had already received (decrypted, or handed on by the SASL prelude),
// to hand it over at pairing, before anything else. When either side ends, the other is
// flushed and closed.

import NIOCore
import NIOSSL
import NIOTLS  // TLSUserEvent; a dependency of NIOSSL

final class RelayGlueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var partner: RelayGlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    private var early: [ByteBuffer] = []
    private var ended = false
    /// While unpaired, hold reads (the upstream must not be read into memory without bound
    /// before libircclient is there). A TLS upstream starts with this off, because the
    /// handshake needs reads, and turns it on at `handshakeCompleted`; a plain upstream holds
    /// from the start. The SASL prelude, which sits in front of this handler, issues its own
    /// reads while it runs.
    private var holdsReadsUntilPaired: Bool

    init(holdsReadsUntilPaired: Bool = false) {
        self.holdsReadsUntilPaired = holdsReadsUntilPaired
    }

    static func pair(_ a: RelayGlueHandler, _ b: RelayGlueHandler) {
        a.partner = b
        b.partner = a
        a.didPair()
        b.didPair()
    }

    private func didPair() {
        guard let context else { return }
        if !early.isEmpty, let partner {
            for buffer in early { partner.partnerWrite(buffer) }
            early = []
            partner.partnerFlush()
        }
        if ended {
            partner?.partnerClose()
        } else if pendingRead, partner?.partnerWritable == true {
            pendingRead = false
            context.read()
        }
    }

    // Called by the partner.

    private func partnerWrite(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }

    private func partnerFlush() {
        context?.flush()
    }

    private var partnerWritable: Bool {
        context?.channel.isWritable ?? false
    }

    private func partnerBecameWritable() {
        if pendingRead, let context {
            pendingRead = false
            context.read()
        }
    }

    /// Closes this side after everything already written to it has gone out.
    private func partnerClose() {
        guard let context else { return }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    // ChannelHandler

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if let partner {
            partner.partnerWrite(buffer)
        } else {
            early.append(buffer)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.partnerFlush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        ended = true
        partner?.partnerClose()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            holdsReadsUntilPaired = true
        }
        if let event = event as? ChannelEvent, case .inputClosed = event {
            // No half-close across the relay: the side that stopped sending is finished.
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            partner?.partnerBecameWritable()
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if partner == nil, !holdsReadsUntilPaired {
            context.read()
        } else if let partner, partner.partnerWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }
}
