import GatewayCore

/// One channel on one user's connection: who is in it with which prefix modes, its topic and
/// modes. Pure state, fed with what the server says; it answers in the core's terms (occupants
/// with XEP-0045 roles and affiliations).
struct IRCChannel {
    /// The channel's name as the user's address has it (`#swift`).
    var name: String
    /// The key it was joined with, to rejoin after a reconnection.
    var key: String?
    /// Our JOIN was echoed; NAMES may still be coming.
    var joined = false
    /// The core has been told (366 after our JOIN); until then members are collected silently.
    var announced = false
    var topic: RoomSubject?
    /// Channel modes without parameters, and `k`/`l` (whose values are not kept).
    var modes: Set<Character> = []
    private(set) var members: [String: Member] = [:]
    private var caseMapping: IRCCaseMapping

    struct Member {
        var nick: String
        var modes: Set<Character> = []
    }

    init(name: String, key: String?, caseMapping: IRCCaseMapping) {
        self.name = name
        self.key = key
        self.caseMapping = caseMapping
    }

    func member(_ nick: String) -> Member? { members[caseMapping.fold(nick)] }

    /// 353 RPL_NAMREPLY: `[prefixes]nick` words (several prefixes with multi-prefix).
    mutating func addNames(_ names: String, prefixes: [ISupport.MembershipPrefix]) {
        for word in names.split(separator: " ") {
            var nick = Substring(word)
            var modes: Set<Character> = []
            while let first = nick.first, let prefix = prefixes.first(where: { $0.symbol == first }) {
                modes.insert(prefix.mode)
                nick = nick.dropFirst()
            }
            // A `nick!user@host` (userhost-in-names) keeps only the nick.
            let bare = String(nick.split(separator: "!", maxSplits: 1).first ?? nick)
            guard !bare.isEmpty else { continue }
            members[caseMapping.fold(bare)] = Member(nick: bare, modes: modes)
        }
    }

    mutating func add(_ nick: String) {
        members[caseMapping.fold(nick)] = Member(nick: nick)
    }

    @discardableResult
    mutating func remove(_ nick: String) -> Member? {
        members.removeValue(forKey: caseMapping.fold(nick))
    }

    /// Returns whether the nick was here.
    mutating func rename(_ old: String, to new: String) -> Bool {
        guard var member = members.removeValue(forKey: caseMapping.fold(old)) else { return false }
        member.nick = new
        members[caseMapping.fold(new)] = member
        return true
    }

    /// A MODE line's changes (`+ov-k alice bob`): prefix modes update members (returned, for the
    /// core to show new roles), other modes are kept for disco#info. CHANMODES says which take
    /// a parameter: A and B always, C when set, D never.
    mutating func applyModes(_ change: String, _ parameters: [String], isupport: ISupport) -> [Member] {
        let prefixModes = Set(isupport.prefixes.map(\.mode))
        let groups = (isupport["CHANMODES"] ?? "beI,k,l,imnpst").split(separator: ",", omittingEmptySubsequences: false).map(Set.init)
        func group(_ index: Int) -> Set<Character> { index < groups.count ? groups[index] : [] }
        var parameters = parameters[...]
        var adding = true
        var changed: [String: Member] = [:]
        for mode in change {
            switch mode {
            case "+": adding = true
            case "-": adding = false
            default:
                if prefixModes.contains(mode) {
                    guard let nick = parameters.popFirst(), var member = self.member(nick) else { continue }
                    if adding { member.modes.insert(mode) } else { member.modes.remove(mode) }
                    members[caseMapping.fold(nick)] = member
                    changed[caseMapping.fold(nick)] = member
                } else if group(0).contains(mode) || group(1).contains(mode) || (group(2).contains(mode) && adding) {
                    _ = parameters.popFirst()
                    if mode == "k" || mode == "l" { if adding { modes.insert(mode) } else { modes.remove(mode) } }
                } else {
                    if adding { modes.insert(mode) } else { modes.remove(mode) }
                }
            }
        }
        return Array(changed.values)
    }

    /// The XEP-0045 occupant for a member: the highest prefix decides, as biboumi maps them —
    /// `~` owner, `&` and `@` admin, `%` member, all of them moderators; `+` a member who may
    /// speak; nobody else has an affiliation.
    static func occupant(_ member: Member) -> RoomOccupant {
        let modes = member.modes
        if modes.contains("q") { return RoomOccupant(nick: member.nick, affiliation: .owner, role: .moderator) }
        if modes.contains("a") || modes.contains("o") { return RoomOccupant(nick: member.nick, affiliation: .admin, role: .moderator) }
        if modes.contains("h") { return RoomOccupant(nick: member.nick, affiliation: .member, role: .moderator) }
        if modes.contains("v") { return RoomOccupant(nick: member.nick, affiliation: .member, role: .participant) }
        return RoomOccupant(nick: member.nick)
    }

    var occupants: [RoomOccupant] { members.values.map(Self.occupant).sorted { $0.nick < $1.nick } }

    var info: RoomInfo {
        var info = RoomInfo(name: name, subject: topic?.text, occupantCount: joined ? members.count : nil)
        info.isPasswordProtected = modes.contains("k")
        info.isMembersOnly = modes.contains("i")
        info.isModerated = modes.contains("m")
        info.isPublic = !modes.contains("s") && !modes.contains("p")
        info.isPersistent = modes.contains("P") || modes.contains("r")
        return info
    }
}
