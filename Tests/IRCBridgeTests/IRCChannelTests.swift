import GatewayCore
import XCTest
@testable import IRCBridge

final class IRCChannelTests: XCTestCase {
    private let isupport = ISupport(tokens: ["PREFIX=(qaohv)~&@%+", "CHANMODES=beI,k,l,imnpst", "CASEMAPPING=rfc1459"])

    func testNamesGiveRolesAndAffiliationsFromTheHighestPrefix() {
        var channel = IRCChannel(name: "#swift", key: nil, caseMapping: .rfc1459)
        channel.addNames("~founder @+op %half +voice plain", prefixes: isupport.prefixes)
        channel.addNames("other!u@h", prefixes: isupport.prefixes)
        XCTAssertEqual(channel.occupants, [
            RoomOccupant(nick: "founder", affiliation: .owner, role: .moderator),
            RoomOccupant(nick: "half", affiliation: .member, role: .moderator),
            RoomOccupant(nick: "op", affiliation: .admin, role: .moderator),
            RoomOccupant(nick: "other"),
            RoomOccupant(nick: "plain"),
            RoomOccupant(nick: "voice", affiliation: .member, role: .participant),
        ])
    }

    func testModesUpdateMembersAndSkipParametersOfOtherModes() {
        var channel = IRCChannel(name: "#swift", key: nil, caseMapping: .rfc1459)
        channel.addNames("alice Bob[x]", prefixes: isupport.prefixes)
        let changed = channel.applyModes("+ko-l+vm", ["sekrit", "bob{x}", "alice"], isupport: isupport)
        XCTAssertEqual(Set(changed.map { IRCChannel.occupant($0) }), [
            RoomOccupant(nick: "Bob[x]", affiliation: .admin, role: .moderator),
            RoomOccupant(nick: "alice", affiliation: .member, role: .participant),
        ], "the key is skipped; case mapping finds Bob[x]")
        XCTAssertTrue(channel.info.isPasswordProtected)
        XCTAssertTrue(channel.info.isModerated)
        _ = channel.applyModes("-o+b", ["Bob[x]", "*!*@bad"], isupport: isupport)
        XCTAssertEqual(IRCChannel.occupant(channel.member("bob[x]")!), RoomOccupant(nick: "Bob[x]"))
    }

    func testRenamesAndRemovals() {
        var channel = IRCChannel(name: "#swift", key: nil, caseMapping: .rfc1459)
        channel.addNames("@bob", prefixes: isupport.prefixes)
        XCTAssertTrue(channel.rename("BOB", to: "bobby"))
        XCTAssertEqual(channel.occupants, [RoomOccupant(nick: "bobby", affiliation: .admin, role: .moderator)])
        XCTAssertFalse(channel.rename("nobody", to: "x"))
        XCTAssertNotNil(channel.remove("Bobby"))
        XCTAssertEqual(channel.occupants, [])
    }
}
