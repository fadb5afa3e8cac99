import NIOCore
import NIOEmbedded
import XCTest
@testable import ComponentLink
import XMPPCore

final class XMPPStreamEncoderTests: XCTestCase {
    func testABatchOfStanzasIsOneBufferInOrderInTheComponentNamespace() throws {
        let channel = EmbeddedChannel(handler: XMPPStreamEncoder())
        defer { _ = try? channel.finish() }
        let stanzas = (1...3).map { XMPPCore.XMLElement("message", namespace: Namespace.component, ["id": "m\($0)", "to": "a@b"]) }
        try channel.writeOutbound(OutboundFrame.elements(stanzas))
        var written = try XCTUnwrap(channel.readOutbound(as: ByteBuffer.self))
        XCTAssertNil(try channel.readOutbound(as: ByteBuffer.self), "one write for the batch")
        XCTAssertEqual(written.readString(length: written.readableBytes),
                       "<message id='m1' to='a@b'/><message id='m2' to='a@b'/><message id='m3' to='a@b'/>")
    }
}
