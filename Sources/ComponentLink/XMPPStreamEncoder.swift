import NIOCore
import XMPPCore

/// Serializes ``OutboundFrame``s for a component stream (`jabber:component:accept`).
public final class XMPPStreamEncoder: ChannelOutboundHandler {
    public typealias OutboundIn = OutboundFrame
    public typealias OutboundOut = ByteBuffer

    public init() {}

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var bytes: [UInt8] = []
        Self.serialize(unwrapOutboundIn(data), into: &bytes)
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    /// Appends the frame's UTF-8 to `output`.
    public static func serialize(_ frame: OutboundFrame, into output: inout [UInt8]) {
        switch frame {
        case .streamHeader(let domain):
            output.append(contentsOf: "<?xml version='1.0'?><stream:stream xmlns='\(Namespace.component)' ".utf8)
            output.append(contentsOf: "xmlns:stream='\(Namespace.streams)' to='\(XMLSerializer.escape(domain, inAttribute: true))'>".utf8)
        case .element(let element):
            XMLSerializer.write(element, enclosingNamespace: Namespace.component, to: &output)
        case .elements(let elements):
            output.reserveCapacity(elements.count * 256)
            for element in elements { XMLSerializer.write(element, enclosingNamespace: Namespace.component, to: &output) }
        case .whitespace:
            output.append(UInt8(ascii: " "))
        case .streamError(let error):
            XMLSerializer.write(error.element, enclosingNamespace: Namespace.component, to: &output)
            output.append(contentsOf: "</stream:stream>".utf8)
        case .streamEnd:
            output.append(contentsOf: "</stream:stream>".utf8)
        }
    }
}

@available(*, unavailable)
extension XMPPStreamEncoder: Sendable {}
