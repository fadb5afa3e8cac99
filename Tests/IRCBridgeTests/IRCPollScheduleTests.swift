@testable import IRCBridge
import XCTest

final class IRCPollScheduleTests: XCTestCase {
    private let start = ContinuousClock.now

    private func at(_ seconds: Double) -> ContinuousClock.Instant { start + .seconds(seconds) }

    func testAConnectionPollsOneIntervalAfterItWasAdded() {
        var schedule = IRCPollSchedule<String>(interval: .seconds(60))
        XCTAssertNil(schedule.nextWake)
        schedule.add("alice", id: 1, now: at(0))
        XCTAssertEqual(schedule.nextWake, at(60))
        XCTAssertTrue(schedule.takeDue(now: at(58)).isEmpty, "two seconds early is beyond the slack")
        XCTAssertEqual(schedule.takeDue(now: at(60)).map(\.key), ["alice"])
        XCTAssertEqual(schedule.nextWake, at(120), "rescheduled one interval on")
    }

    func testAddingAgainKeepsTheTimeButANewConnectionStartsOver() {
        var schedule = IRCPollSchedule<String>(interval: .seconds(60))
        schedule.add("alice", id: 1, now: at(0))
        schedule.add("alice", id: 1, now: at(30))
        XCTAssertEqual(schedule.nextWake, at(60), "the roster changed; the poll time stays")
        schedule.add("alice", id: 2, now: at(30))
        XCTAssertEqual(schedule.nextWake, at(90), "a reconnect is a new connection")
        XCTAssertFalse(schedule.contains("alice", id: 1))
        XCTAssertTrue(schedule.contains("alice", id: 2))
    }

    func testPollsDueWithinTheSlackAreTakenTogether() {
        var schedule = IRCPollSchedule<String>(interval: .seconds(60))
        XCTAssertEqual(schedule.slack, .seconds(1))
        schedule.add("alice", id: 1, now: at(0))
        schedule.add("bob", id: 2, now: at(0.5))
        schedule.add("carol", id: 3, now: at(5))
        let taken = schedule.takeDue(now: at(60))
        XCTAssertEqual(Set(taken.map(\.key)), ["alice", "bob"])
        XCTAssertEqual(schedule.nextWake, at(65))
    }

    func testRemovingNamesTheConnection() {
        var schedule = IRCPollSchedule<String>(interval: .seconds(10))
        XCTAssertEqual(schedule.slack, .seconds(1))
        schedule.add("alice", id: 2, now: at(0))
        schedule.remove("alice", id: 1)
        XCTAssertFalse(schedule.isEmpty, "an older connection's removal leaves the new one polling")
        schedule.remove("alice", id: 2)
        XCTAssertTrue(schedule.isEmpty)
        XCTAssertNil(schedule.nextWake)
    }

    func testAShortIntervalHasAShortSlack() {
        let schedule = IRCPollSchedule<String>(interval: .seconds(1))
        XCTAssertEqual(schedule.slack, .milliseconds(100))
    }
}
