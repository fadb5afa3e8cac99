import GatewayCore

/// A WHOIS answer being collected (311 … 318), and who waits for it.
struct IRCWhoisReply {
    var nick: String
    var user: String?
    var host: String?
    var realname: String?
    var server: String?
    var serverInfo: String?
    var channels: [String] = []
    var away: String?
    var account: String?
    var idleSeconds: Int?
    var secure = false
    var waiters: [CheckedContinuation<Result<ContactProfile, BridgeError>, Never>] = []
    /// Fails the request if the server does not finish it in time; cancelled when it does.
    var timer: OneShotTimer?

    /// Takes one WHOIS numeric (`params[0]` is our nick, `params[1]` theirs).
    mutating func apply(_ code: UInt32, _ params: [String]) {
        func param(_ index: Int) -> String? { params.count > index ? params[index] : nil }
        switch code {
        case 311: // <me> <nick> <user> <host> * :<realname>
            nick = param(1) ?? nick
            user = param(2)
            host = param(3)
            realname = params.last
        case 312: // <me> <nick> <server> :<info>
            server = param(2)
            serverInfo = params.count > 3 ? params.last : nil
        case 319: // <me> <nick> :<channels>
            channels += (params.last ?? "").split(separator: " ").map(String.init)
        case 301: // <me> <nick> :<away message>
            away = params.last
        case 330: // <me> <nick> <account> :is logged in as
            account = param(2)
        case 317: // <me> <nick> <idle> <signon> :seconds idle…
            idleSeconds = param(2).flatMap { Int($0) }
        case 671: // <me> <nick> :is using a secure connection
            secure = true
        default:
            break
        }
    }

    /// The profile a vCard is made of: the real name as the full name, the rest as text.
    var profile: ContactProfile {
        var about: [String] = []
        if let user, let host { about.append("\(nick)!\(user)@\(host)") }
        if let server { about.append("Connected to \(server)" + (serverInfo.map { " (\(IRCFormatting.plainText($0)))" } ?? "")) }
        if let account { about.append("Logged in as \(account)") }
        if !channels.isEmpty { about.append("On " + channels.joined(separator: " ")) }
        if let away { about.append("Away: \(IRCFormatting.plainText(away))") }
        if let idleSeconds { about.append("Idle for \(Self.describe(seconds: idleSeconds))") }
        if secure { about.append("Using a secure connection") }
        return ContactProfile(
            name: nick, category: "client", type: "pc",
            fullName: realname.map(IRCFormatting.plainText), about: about.isEmpty ? nil : about.joined(separator: "\n")
        )
    }

    static func describe(seconds: Int) -> String {
        switch seconds {
        case ..<60: "\(seconds) s"
        case ..<3600: "\(seconds / 60) min"
        case ..<86400: "\(seconds / 3600) h \(seconds % 3600 / 60) min"
        default: "\(seconds / 86400) days"
        }
    }
}
