import TestSupport
import XCTest
import XMPPCore
@testable import ComponentLink

final class LinkEventStreamTests: XCTestCase {
    private func stanza(_ id: String) -> LinkEvent {
        .stanzas([XMPPCore.XMLElement("message", attributes: [XMLAttribute("id", id)])])
    }

    func testEventsYieldedBeforeTheReaderAsksComeInOrder() async {
        let stream = LinkEventStream()
        stream.yield(.established)
        stream.yield(stanza("a"))
        stream.yield(.down(nil))
        var iterator = stream.makeAsyncIterator()
        let first = await iterator.next(), second = await iterator.next(), third = await iterator.next()
        XCTAssertEqual(first, .established)
        XCTAssertEqual(second, stanza("a"))
        XCTAssertEqual(third, .down(nil))
    }

    func testAWaitingReaderGetsTheNextEvent() async throws {
        let stream = LinkEventStream()
        let reader = Task { () -> LinkEvent? in
            var iterator = stream.makeAsyncIterator()
            return await iterator.next()
        }
        try await withTimeout(10, "the reader waiting") {
            while !stream.readerIsWaiting { await Task.yield() }
        }
        stream.yield(.established)
        let event = try await withTimeout(10, "the reader getting the event") { await reader.value }
        XCTAssertEqual(event, .established)
    }

    func testFinishingHandsOverWhatIsBufferedThenEnds() async {
        let stream = LinkEventStream()
        stream.yield(stanza("a"))
        stream.finish()
        stream.yield(stanza("dropped"))
        var received: [LinkEvent] = []
        for await event in stream { received.append(event) }
        XCTAssertEqual(received, [stanza("a")])
    }

    func testFinishingEndsAWaitingReader() async throws {
        let stream = LinkEventStream()
        let reader = Task { () -> Int in
            var count = 0
            for await _ in stream { count += 1 }
            return count
        }
        stream.finish()
        let count = try await withTimeout(10, "the reader ending") { await reader.value }
        XCTAssertEqual(count, 0)
    }

    func testCancellingTheReaderEndsTheStream() async throws {
        let stream = LinkEventStream()
        let reader = Task { () -> LinkEvent? in
            var iterator = stream.makeAsyncIterator()
            return await iterator.next()
        }
        reader.cancel()
        let event = try await withTimeout(10, "the cancelled reader returning") { await reader.value }
        XCTAssertNil(event)
        stream.yield(.established)
        var iterator = stream.makeAsyncIterator()
        let after = await iterator.next()
        XCTAssertNil(after, "the stream is over once its reader was cancelled")
    }
}
