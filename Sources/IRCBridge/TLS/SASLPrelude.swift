// The IRCv3 SASL PLAIN prelude, as a pure state machine (events in, actions out, after
// postgres-nio's ConnectionStateMachine): `SASLPreludeHandler` feeds it lines and a timeout
// and carries out what it returns; tests drive it with no sockets at all.
//
// The relay runs this itself, before libircclient connects, because libircclient knows
// neither CAP nor AUTHENTICATE, and a failed login must fail the relay's open rather than leave
// a half-registered connection behind. The exchange (https://ircv3.net/specs/extensions/sasl-3.1):
//
//   → CAP LS 302
//   ← CAP * LS * :a b c          (zero or more continuation lines)
//   ← CAP * LS :sasl=PLAIN,EXTERNAL d
//   → CAP REQ :sasl
//   ← CAP * ACK :sasl            (NAK: no SASL after all)
//   → AUTHENTICATE PLAIN
//   ← AUTHENTICATE +
//   → AUTHENTICATE <base64>      (400-byte chunks; a final `+` when the last one is exactly 400)
//   ← 900 (logged in), 903 (success)   or 902/904/905/906/907/908 (failure)
//   → CAP END
//
// A server with no `sasl` (or one without PLAIN), a NAK, or a server that does not know CAP at
// all (421) is not an error: the connection goes on unauthenticated and the bridge decides.
// Anything else the server says meanwhile (NOTICE AUTH, numerics the prelude does not own) is
// handed back as `.deliver`, in order, for libircclient; PINGs are answered here, since nobody
// else can yet.

struct SASLPrelude {
    enum Action: Equatable, Sendable {
        /// Write this line to the server (the handler adds CR LF).
        case send(String)
        /// A line that is not the prelude's (the raw bytes, without CR LF): keep it, in order,
        /// for libircclient.
        case deliver([UInt8])
        /// The prelude is over (any `CAP END` has already been sent): hand on the rest of the
        /// stream and let libircclient in.
        case finish(IRCTLSRelay.SASLOutcome)
        /// Give up: close the connection and fail the open with this error.
        case fail(IRCTLSError)
    }

    private enum State: Equatable {
        case idle
        /// `CAP LS 302` sent; collecting the (possibly multi-line) list.
        case listing(offered: Bool)
        /// `CAP REQ :sasl` sent.
        case requesting
        /// `AUTHENTICATE PLAIN` sent; waiting for the server's empty challenge.
        case awaitingChallenge
        /// The credentials are sent; waiting for 903 or a failure numeric.
        case awaitingResult
        case finished
        case failed
    }

    /// AUTHENTICATE carries at most 400 bytes of base64 per line (IRCv3 SASL 3.1).
    static let chunkLength = 400

    private let credentials: IRCTLSRelay.SASLCredentials
    private var state = State.idle
    /// The text of an `ERROR` line, for the failure if the connection then drops.
    private var closingText: String?

    init(credentials: IRCTLSRelay.SASLCredentials) {
        self.credentials = credentials
    }

    /// The connection is up (and TLS verified): ask for the capability list.
    mutating func start() -> [Action] {
        guard state == .idle else { return [] }
        state = .listing(offered: false)
        return [.send("CAP LS 302")]
    }

    /// One line from the server, without its CR LF.
    mutating func receivedLine(_ line: [UInt8]) -> [Action] {
        switch state {
        case .idle, .finished:
            // Not ours (before the start, or after the end): all of it is libircclient's.
            return [.deliver(line)]
        case .failed:
            return []
        case .listing, .requesting, .awaitingChallenge, .awaitingResult:
            break
        }
        guard let message = IRCMessage(bytes: line) else { return [.deliver(line)] }
        switch message.command {
        case "PING":
            // libircclient is not there yet to answer, and a server may time us out meanwhile.
            guard let token = message.params.last else { return [.send("PONG")] }
            return [.send("PONG :" + token.filter { $0 != "\0" })]
        case "CAP":
            return capability(message)
        case "AUTHENTICATE":
            return challenge(message)
        case "900", "901":
            // RPL_LOGGEDIN / RPL_LOGGEDOUT: the outcome says it.
            return []
        case "903":
            guard state == .awaitingChallenge || state == .awaitingResult else { return [] }
            return end(.succeeded)
        case "902", "904", "905", "906", "907", "908":
            return fail(.saslFailed(Self.text(of: message)))
        case "421":
            // ERR_UNKNOWNCOMMAND. For CAP, a server from before IRCv3: nothing to end.
            let command = message.params.count > 1 ? message.params[1].uppercased() : ""
            if command == "CAP" {
                state = .finished
                return [.finish(.notOffered)]
            }
            if command == "AUTHENTICATE" {
                return fail(.saslFailed("the server offers SASL but does not know AUTHENTICATE"))
            }
            return [.deliver(line)]
        case "ERROR":
            // The server is closing on us; keep its reason for the user.
            closingText = message.params.last ?? ""
            return fail(.saslFailed("the server closed the connection: \(closingText!)"))
        default:
            return [.deliver(line)]
        }
    }

    /// The prelude took longer than the relay allows.
    mutating func timedOut() -> [Action] {
        guard isRunning else { return [] }
        return fail(.saslTimedOut)
    }

    /// The connection ended (or failed, with `detail`) before the prelude did.
    mutating func connectionClosed(detail: String? = nil) -> [Action] {
        guard isRunning else { return [] }
        let text = closingText.map { "the server closed the connection: \($0)" }
            ?? detail.map { "the connection failed during SASL authentication: \($0)" }
            ?? "the server closed the connection during SASL authentication"
        return fail(.saslFailed(text))
    }

    var isRunning: Bool {
        switch state {
        case .listing, .requesting, .awaitingChallenge, .awaitingResult: true
        case .idle, .finished, .failed: false
        }
    }

    // MARK: Steps

    /// `CAP <target> <subcommand> [*] :<list>`.
    private mutating func capability(_ message: IRCMessage) -> [Action] {
        let params = message.params
        guard params.count >= 3 else { return [] }
        let subcommand = params[1].uppercased()
        let more = params.count >= 4 && params[2] == "*"
        let list = params[params.count - 1].split(separator: " ")
        switch (subcommand, state) {
        case ("LS", .listing(let offered)):
            let nowOffered = offered || list.contains(where: Self.offersPLAIN)
            guard !more else {
                state = .listing(offered: nowOffered)
                return []
            }
            guard nowOffered else { return end(.notOffered) }
            state = .requesting
            return [.send("CAP REQ :sasl")]
        case ("ACK", .requesting):
            // A `-sasl` would be a disable, not an ack.
            guard list.contains(where: { $0.drop(while: { $0 == "~" || $0 == "=" }) == "sasl" }) else {
                return end(.notOffered)
            }
            state = .awaitingChallenge
            return [.send("AUTHENTICATE PLAIN")]
        case ("NAK", .requesting):
            return end(.notOffered)
        default:
            // CAP NEW / DEL (cap-notify comes with 302), or a reply out of turn: nothing to do.
            return []
        }
    }

    private mutating func challenge(_ message: IRCMessage) -> [Action] {
        guard state == .awaitingChallenge, message.params.first == "+" else {
            return fail(.saslFailed("the server sent an unexpected SASL challenge"))
        }
        state = .awaitingResult
        return Self.authenticateLines(credentials.plainMessage).map(Action.send)
    }

    /// Sends `CAP END` (the server holds registration until it comes) and finishes.
    private mutating func end(_ outcome: IRCTLSRelay.SASLOutcome) -> [Action] {
        state = .finished
        return [.send("CAP END"), .finish(outcome)]
    }

    private mutating func fail(_ error: IRCTLSError) -> [Action] {
        state = .failed
        return [.fail(error)]
    }

    // MARK: Helpers

    /// `sasl` with no value (mechanisms unknown: try PLAIN), or `sasl=...` listing PLAIN.
    static func offersPLAIN(_ token: Substring) -> Bool {
        if token == "sasl" { return true }
        guard token.hasPrefix("sasl=") else { return false }
        let mechanisms = token.dropFirst(5)
        return mechanisms.isEmpty || mechanisms.split(separator: ",").contains { $0.uppercased() == "PLAIN" }
    }

    /// `AUTHENTICATE` lines for a base64 payload: 400-byte pieces, and a lone `+` when the last
    /// piece is exactly 400 bytes long (or the payload is empty), so the server knows it ended.
    static func authenticateLines(_ payload: String) -> [String] {
        let bytes = Array(payload.utf8)
        var lines: [String] = []
        var index = 0
        while index < bytes.count {
            let end = min(index + chunkLength, bytes.count)
            lines.append("AUTHENTICATE " + String(decoding: bytes[index..<end], as: UTF8.self))
            index = end
        }
        if bytes.count % chunkLength == 0 { lines.append("AUTHENTICATE +") }
        return lines
    }

    /// The server's words from a failure numeric (`:srv 904 nick :SASL authentication failed`,
    /// `:srv 908 nick PLAIN,EXTERNAL :are available SASL mechanisms`), without the nick.
    private static func text(of message: IRCMessage) -> String {
        let words = message.params.dropFirst().joined(separator: " ")
        return words.isEmpty ? "the server refused the login (\(message.command))" : words
    }
}
