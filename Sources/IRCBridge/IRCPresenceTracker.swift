/// Which watched nicks are online on one IRC connection: a pure state machine, lines out and
/// presence changes out, run by the bridge.
///
/// Servers with MONITOR (ISUPPORT `MONITOR`) are told the list once and report changes
/// (730 RPL_MONONLINE / 731 RPL_MONOFFLINE). Elsewhere (ngircd has no MONITOR) the bridge
/// polls with ISON and 303 RPL_ISON answers; each ISON line is one batch, and replies come back
/// in order, so batches are matched first in, first out. Activity seen on the connection — a
/// message from a nick, its QUIT or NICK — updates presence between polls.
struct IRCPresenceTracker {
    enum Method: Equatable {
        case monitor
        case ison
    }

    struct Change: Equatable {
        /// The nick as it was given to ``watch(_:)``.
        var nick: String
        var online: Bool
    }

    private(set) var method: Method = .ison
    private var caseMapping: IRCCaseMapping
    /// Folded nick → the spelling the user's roster has.
    private(set) var watched: [String: String] = [:]
    /// Folded nicks last known online.
    private var online: Set<String> = []
    /// Folded nicks the server has on its MONITOR list.
    private var monitored: Set<String> = []
    /// ISON batches sent and not answered yet, oldest first.
    private var pendingBatches: [[String]] = []
    private var monitorLimit: Int?

    /// A line is at most 512 bytes with CR LF; leave room for a prefix the server may add.
    static let maxLineBytes = 400

    init(caseMapping: IRCCaseMapping = .rfc1459) {
        self.caseMapping = caseMapping
    }

    /// Takes what the server announced in ISUPPORT. Call before the first ``watch(_:)``.
    mutating func apply(_ isupport: ISupport) {
        caseMapping = isupport.caseMapping
        if isupport["MONITOR"] != nil {
            method = .monitor
            monitorLimit = isupport.monitorLimit
        }
    }

    /// Sets the whole watch list. Returns the lines to send (MONITOR changes; ISON waits for
    /// ``poll()``) and the changes to report: nicks no longer watched are forgotten silently.
    mutating func watch(_ nicks: Set<String>) -> [String] {
        var next: [String: String] = [:]
        for nick in nicks { next[caseMapping.fold(nick)] = nick }
        let removed = Set(watched.keys).subtracting(next.keys)
        online.subtract(removed)
        watched = next
        guard method == .monitor else { return [] }
        if let monitorLimit, next.count > monitorLimit {
            // More than the server will monitor: poll them all instead.
            method = .ison
            let lines = monitored.isEmpty ? [] : ["MONITOR C"]
            monitored.removeAll()
            return lines
        }
        let added = Set(next.keys).subtracting(monitored)
        let dropped = monitored.intersection(removed)
        monitored.formUnion(added)
        monitored.subtract(dropped)
        return Self.batches("MONITOR -", dropped.sorted(), separator: ",")
            + Self.batches("MONITOR +", added.sorted().map { next[$0]! }, separator: ",")
    }

    /// ISON lines asking for every watched nick; nothing when MONITOR does the work.
    mutating func poll() -> [String] {
        guard method == .ison, !watched.isEmpty else { return [] }
        // Unanswered batches from a poll the server never answered would misalign replies.
        pendingBatches.removeAll()
        var lines: [String] = []
        var batch: [String] = []
        var length = 4
        for folded in watched.keys.sorted() {
            let nick = watched[folded]!
            if !batch.isEmpty, length + 1 + nick.utf8.count > Self.maxLineBytes {
                lines.append("ISON " + batch.joined(separator: " "))
                pendingBatches.append(batch.map(caseMapping.fold))
                batch = []
                length = 4
            }
            batch.append(nick)
            length += 1 + nick.utf8.count
        }
        lines.append("ISON " + batch.joined(separator: " "))
        pendingBatches.append(batch.map(caseMapping.fold))
        return lines
    }

    /// A numeric reply; returns the presence changes it shows.
    mutating func handleNumeric(_ code: UInt32, _ params: [String]) -> [Change] {
        switch code {
        case 303: // RPL_ISON <me> :nick nick…
            guard !pendingBatches.isEmpty else { return [] }
            let batch = pendingBatches.removeFirst()
            let present = Set((params.last ?? "").split(separator: " ").map { caseMapping.fold(String($0)) })
            return batch.compactMap { folded in update(folded, online: present.contains(folded)) }
        case 730, 731: // RPL_MONONLINE / RPL_MONOFFLINE <me> :target[,target…] (730 with !user@host)
            let targets = (params.last ?? "").split(separator: ",").map { target in
                String(target.split(separator: "!", maxSplits: 1).first ?? target)
            }
            return targets.compactMap { update(caseMapping.fold($0), online: code == 730) }
        case 734: // ERR_MONLISTFULL: poll instead.
            method = .ison
            monitored.removeAll()
            return []
        default:
            return []
        }
    }

    /// Someone spoke on the connection: they are online.
    mutating func sawActivity(from nick: String) -> [Change] {
        update(caseMapping.fold(nick), online: true).map { [$0] } ?? []
    }

    mutating func sawQuit(of nick: String) -> [Change] {
        update(caseMapping.fold(nick), online: false).map { [$0] } ?? []
    }

    mutating func sawNickChange(from old: String, to new: String) -> [Change] {
        sawQuit(of: old) + sawActivity(from: new)
    }

    /// The connection ended: everyone known online is now unknown, shown offline.
    mutating func connectionLost() -> [Change] {
        let changes = online.sorted().compactMap { folded in watched[folded].map { Change(nick: $0, online: false) } }
        online.removeAll()
        pendingBatches.removeAll()
        monitored.removeAll()
        return changes
    }

    private mutating func update(_ folded: String, online isOnline: Bool) -> Change? {
        guard let nick = watched[folded], online.contains(folded) != isOnline else { return nil }
        if isOnline { online.insert(folded) } else { online.remove(folded) }
        return Change(nick: nick, online: isOnline)
    }

    private static func batches(_ command: String, _ nicks: [String], separator: String) -> [String] {
        var lines: [String] = []
        var batch: [String] = []
        var length = command.utf8.count + 1
        for nick in nicks {
            if !batch.isEmpty, length + separator.utf8.count + nick.utf8.count > maxLineBytes {
                lines.append(command + " " + batch.joined(separator: separator))
                batch = []
                length = command.utf8.count + 1
            }
            batch.append(nick)
            length += separator.utf8.count + nick.utf8.count
        }
        if !batch.isEmpty { lines.append(command + " " + batch.joined(separator: separator)) }
        return lines
    }
}
