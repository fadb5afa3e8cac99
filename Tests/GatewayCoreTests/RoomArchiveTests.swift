import Foundation
import Logging
import XCTest
@testable import GatewayCore

final class RoomArchiveTests: XCTestCase {
    private func message(_ n: Int, room: String = "#a%irc", user: String = "alice@localhost", at: Double? = nil) -> ArchivedMessage {
        ArchivedMessage(bridge: "irc.localhost", user: user, room: room, stanzaID: "s\(n)-\(room)-\(user)", nick: "bob", body: "m\(n)",
                        at: Date(timeIntervalSince1970: at ?? Double(1_000 + n)))
    }

    private func makeArchive(keep: Int = 100) throws -> RoomArchive {
        var policy = RoomArchive.Policy()
        policy.maxMessagesPerRoom = keep
        let store = try GatewayStore.inMemory(vault: CredentialVault(key: Array(repeating: 3, count: 32)))
        return RoomArchive(store: store, policy: policy, logger: Logger(label: "test"))
    }

    func testPagesForwardBackwardAndByTimeForOneUserAndRoom() async throws {
        let archive = try makeArchive()
        for n in 0..<10 { archive.append(message(n)) }
        archive.append(message(99, room: "#b%irc"))
        archive.append(message(98, user: "bob@localhost"))

        func bodies(_ query: ArchiveQuery) async throws -> ([String], Bool, Int) {
            let page = try await archive.page(bridge: "irc.localhost", user: "alice@localhost", room: "#a%irc", query: query)
            return (page.messages.map(\.body), page.complete, page.count)
        }
        var (page, complete, count) = try await bodies(ArchiveQuery(limit: 4))
        XCTAssertEqual(page, ["m0", "m1", "m2", "m3"])
        XCTAssertFalse(complete)
        XCTAssertEqual(count, 10, "other rooms and users are not counted")
        (page, complete, _) = try await bodies(ArchiveQuery(after: "s7-#a%irc-alice@localhost", limit: 4))
        XCTAssertEqual(page, ["m8", "m9"])
        XCTAssertTrue(complete)
        (page, _, _) = try await bodies(ArchiveQuery(before: "", limit: 3))
        XCTAssertEqual(page, ["m7", "m8", "m9"], "the last page, oldest first")
        (page, _, _) = try await bodies(ArchiveQuery(before: "s7-#a%irc-alice@localhost", limit: 2))
        XCTAssertEqual(page, ["m5", "m6"])
        (page, _, count) = try await bodies(ArchiveQuery(start: Date(timeIntervalSince1970: 1_004), end: Date(timeIntervalSince1970: 1_006), limit: 10))
        XCTAssertEqual(page, ["m4", "m5", "m6"])
        XCTAssertEqual(count, 3)
        (page, _, _) = try await bodies(ArchiveQuery(after: "unknown", limit: 10))
        XCTAssertEqual(page, [], "nothing is known after an unknown id")
    }

    func testEachRoomKeepsItsNewestMessagesOnly() async throws {
        let archive = try makeArchive(keep: 5)
        for n in 0..<12 { archive.append(message(n)) }
        let page = try await archive.page(bridge: "irc.localhost", user: "alice@localhost", room: "#a%irc", query: ArchiveQuery(limit: 50))
        XCTAssertEqual(page.messages.map(\.body), ["m7", "m8", "m9", "m10", "m11"])
    }

    /// Rooms are cut back every tenth of the limit, not on every write: never more than a
    /// tenth over, always the newest.
    func testRoomsAreCutBackEveryTenthOfTheLimit() async throws {
        let archive = try makeArchive(keep: 20)
        for n in 0..<47 {
            archive.append(message(n))
            await archive.flush()
            let page = try await archive.page(bridge: "irc.localhost", user: "alice@localhost", room: "#a%irc", query: ArchiveQuery(limit: 100))
            XCTAssertLessThanOrEqual(page.messages.count, 22, "after \(n + 1)")
            XCTAssertEqual(page.messages.last?.body, "m\(n)")
            XCTAssertGreaterThanOrEqual(page.messages.count, min(n + 1, 20), "the newest 20 are always there")
        }
    }
}
