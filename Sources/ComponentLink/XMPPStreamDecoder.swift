import NIOCore
import XMPPCore

/// Turns the bytes of an XMPP stream into ``XMLStreamEvent``s with ``XMLStreamParser``.
/// After a failure it reads nothing more: the stream is over.
public final class XMPPStreamDecoder: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = XMLStreamEvent

    private let parser: XMLStreamParser

    public init(limits: XMLStreamParser.Limits = .init()) {
        parser = XMLStreamParser(limits: limits)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard !parser.isFinished else { return }
        let events = buffer.withUnsafeReadableBytes { parser.feed($0) }
        for event in events {
            context.fireChannelRead(wrapInboundOut(event))
        }
    }
}

@available(*, unavailable)
extension XMPPStreamDecoder: Sendable {}
