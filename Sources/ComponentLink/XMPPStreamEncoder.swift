import NIOCore
import XMPPCore

/// Serializes ``OutboundFrame``s for a component stream (`jabber:component:accept`).
public final class XMPPStreamEncoder: ChannelOutboundHandler {
    public typealias OutboundIn = OutboundFrame
    public typealias OutboundOut = ByteBuffer

    public init() {}

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let text = Self.serialize(unwrapOutboundIn(data))
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    public static func serialize(_ frame: OutboundFrame) -> String {
        switch frame {
        case .streamHeader(let domain):
            return "<?xml version='1.0'?><stream:stream xmlns='\(Namespace.component)' "
                + "xmlns:stream='\(Namespace.streams)' to='\(XMLSerializer.escape(domain, inAttribute: true))'>"
        case .element(let element):
            return XMLSerializer.string(element, enclosingNamespace: Namespace.component)
        case .elements(let elements):
            var text = ""
            text.reserveCapacity(elements.count * 256)
            for element in elements { XMLSerializer.write(element, enclosingNamespace: Namespace.component, to: &text) }
            return text
        case .whitespace:
            return " "
        case .streamError(let error):
            return XMLSerializer.string(error.element, enclosingNamespace: Namespace.component) + "</stream:stream>"
        case .streamEnd:
            return "</stream:stream>"
        }
    }
}

@available(*, unavailable)
extension XMPPStreamEncoder: Sendable {}
