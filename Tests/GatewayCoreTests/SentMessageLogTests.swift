import Foundation
import Logging
import XCTest
@testable import GatewayCore

final class SentMessageLogTests: XCTestCase {
    private func sent(_ id: String, xmppID: String = "x") -> SentMessage {
        SentMessage(bridge: "irc.localhost", user: "alice@localhost/r", xmppID: xmppID, peer: "bob%irc",
                    legacyMessageID: id, createdAt: Date(timeIntervalSince1970: 1_000))
    }

    func testRecentSendsForgetTheOldestAndKeepAnIdUsedAgain() {
        var recent = RecentSends(capacity: 3)
        for id in ["a", "b", "c"] { recent.insert(sent(id)) }
        recent.insert(sent("a", xmppID: "again"))  // "a" again: now the youngest
        XCTAssertEqual(recent["a"]?.xmppID, "again", "the older slot of a reused id must not evict it")
        XCTAssertEqual(recent.count, 3)
        recent.insert(sent("d"))
        XCTAssertNil(recent["b"], "the oldest goes first")
        XCTAssertEqual(recent["a"]?.xmppID, "again")
        for id in ["e", "f"] { recent.insert(sent(id)) }
        XCTAssertNil(recent["a"])
        XCTAssertEqual(recent.count, 3)
        XCTAssertNotNil(recent["f"])
    }

    func testSendsReachTheStoreInBatchesAndReadsFlushFirst() async throws {
        let store = try GatewayStore.inMemory(vault: CredentialVault(key: Array(repeating: 3, count: 32)))
        let log = SentMessageLog(bridge: "irc.localhost", store: store, logger: Logger(label: "test"))
        for n in 0..<1_000 { log.record(sent("irc-\(n)", xmppID: "x\(n)")) }
        log.record(sent("irc-5", xmppID: "reused"))
        let fromLog = try await log.storedSend("irc-999")
        XCTAssertEqual(fromLog?.xmppID, "x999", "a read flushes what waits")
        let direct = try await store.sentMessage(bridge: "irc.localhost", legacyMessageID: "irc-5")
        XCTAssertEqual(direct?.xmppID, "reused", "a later send with the same id wins")
        XCTAssertEqual(direct?.peer, "bob%irc")
    }
}

extension SentMessageLogTests {
    func testRecentSendsStayRightAcrossIndexGenerations() {
        var recent = RecentSends(capacity: 4)
        for n in 0..<50 {
            recent.insert(sent("id\(n % 7)", xmppID: "x\(n)"))
            // The last four sends are remembered, each id by its newest send.
            for back in 0..<min(4, n + 1) {
                let number = n - back
                XCTAssertEqual(recent["id\(number % 7)"]?.xmppID, "x\(number)", "after send \(n)")
            }
            if n >= 4 { XCTAssertNil(recent["id\((n - 4) % 7)"], "after send \(n): the fifth newest is forgotten") }
            XCTAssertEqual(recent.count, min(4, n + 1))
        }
    }
}
