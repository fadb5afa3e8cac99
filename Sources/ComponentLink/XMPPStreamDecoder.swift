import NIOCore
import XMPPCore

/// Turns the bytes of an XMPP stream into ``XMLStreamEvent``s with ``XMLStreamParser``: the
/// events each read completed, in order, passed on as one message (none when it completed
/// none). After a failure it reads nothing more: the stream is over.
///
/// One message per read rather than per event: an event is too large for `NIOAny`'s inline
/// storage, so each one passed on alone was a heap box, a dynamic cast and a pass down the
/// pipeline, per stanza; an array is one pointer.
public final class XMPPStreamDecoder: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = [XMLStreamEvent]

    private let parser: XMLStreamParser

    public init(limits: XMLStreamParser.Limits = .init()) {
        parser = XMLStreamParser(limits: limits)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard !parser.isFinished else { return }
        let events = buffer.withUnsafeReadableBytes { parser.feed($0) }
        guard !events.isEmpty else { return }
        context.fireChannelRead(wrapInboundOut(events))
    }
}

@available(*, unavailable)
extension XMPPStreamDecoder: Sendable {}
