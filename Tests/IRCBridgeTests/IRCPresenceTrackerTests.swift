import XCTest
@testable import IRCBridge

final class IRCPresenceTrackerTests: XCTestCase {
    private typealias Change = IRCPresenceTracker.Change

    func testISONPollsReportOnlyChangesInTheRostersSpelling() {
        var tracker = IRCPresenceTracker()
        XCTAssertEqual(tracker.watch(["Bob", "carol"]), [], "ISON waits for the poll")
        XCTAssertEqual(tracker.poll(), ["ISON Bob carol"])
        XCTAssertEqual(tracker.handleNumeric(303, ["me", "BOB "]), [Change(nick: "Bob", online: true)])
        XCTAssertEqual(tracker.poll(), ["ISON Bob carol"])
        XCTAssertEqual(tracker.handleNumeric(303, ["me", "bob"]), [], "nothing changed")
        _ = tracker.poll()
        XCTAssertEqual(tracker.handleNumeric(303, ["me", "carol"]), [Change(nick: "Bob", online: false), Change(nick: "carol", online: true)])
        XCTAssertEqual(tracker.handleNumeric(303, ["me", "carol"]), [], "an unasked reply is ignored")
    }

    func testLongWatchListsSplitIntoBatchesAnsweredInOrder() {
        var tracker = IRCPresenceTracker()
        let nicks = (0..<100).map { "nick\($0)_padding" }
        _ = tracker.watch(Set(nicks))
        let lines = tracker.poll()
        XCTAssertGreaterThan(lines.count, 1)
        XCTAssertTrue(lines.allSatisfy { $0.utf8.count <= IRCPresenceTracker.maxLineBytes })
        let second = lines[1].split(separator: " ").dropFirst().map(String.init)
        XCTAssertEqual(tracker.handleNumeric(303, ["me", ""]), [])
        let changes = tracker.handleNumeric(303, ["me", second[0]])
        XCTAssertEqual(changes, [Change(nick: second[0], online: true)], "the second reply belongs to the second batch")
    }

    func testMonitorIsUsedWhereOfferedAndFallsBackWhenFull() {
        var tracker = IRCPresenceTracker()
        tracker.apply(ISupport(tokens: ["MONITOR=2", "CASEMAPPING=ascii"]))
        XCTAssertEqual(tracker.watch(["Bob", "carol"]), ["MONITOR + Bob,carol"])
        XCTAssertEqual(tracker.poll(), [], "MONITOR needs no polling")
        XCTAssertEqual(tracker.handleNumeric(730, ["me", "bob!b@host,carol!c@host"]), [Change(nick: "Bob", online: true), Change(nick: "carol", online: true)])
        XCTAssertEqual(tracker.handleNumeric(731, ["me", "carol"]), [Change(nick: "carol", online: false)])
        XCTAssertEqual(tracker.watch(["Bob"]), ["MONITOR - carol"])
        XCTAssertEqual(tracker.watch(["Bob", "dave", "erin"]), ["MONITOR C"], "over the limit: poll instead")
        XCTAssertEqual(tracker.method, .ison)
        XCTAssertEqual(tracker.poll(), ["ISON Bob dave erin"])
    }

    func testActivityQuitsNickChangesAndLostConnections() {
        var tracker = IRCPresenceTracker()
        _ = tracker.watch(["bob", "bobby"])
        XCTAssertEqual(tracker.sawActivity(from: "Bob"), [Change(nick: "bob", online: true)])
        XCTAssertEqual(tracker.sawActivity(from: "stranger"), [], "only watched nicks matter")
        XCTAssertEqual(tracker.sawNickChange(from: "bob", to: "bobby"), [Change(nick: "bob", online: false), Change(nick: "bobby", online: true)])
        XCTAssertEqual(tracker.connectionLost(), [Change(nick: "bobby", online: false)])
        XCTAssertEqual(tracker.sawQuit(of: "bobby"), [])
    }

    func testCaseMappingFromISupportDecidesWhoIsWho() {
        var tracker = IRCPresenceTracker()
        _ = tracker.watch(["bob[away]"])
        XCTAssertEqual(tracker.sawActivity(from: "BOB{AWAY}"), [Change(nick: "bob[away]", online: true)], "rfc1459 by default")
        var ascii = IRCPresenceTracker()
        ascii.apply(ISupport(tokens: ["CASEMAPPING=ascii"]))
        _ = ascii.watch(["bob[away]"])
        XCTAssertEqual(ascii.sawActivity(from: "BOB{AWAY}"), [])
    }
}
