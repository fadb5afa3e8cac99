/// What the server told us about itself in `005` (RPL_ISUPPORT) replies.
///
/// Servers send several `005` lines after registration; feed each to ``apply(_:)``. Until they
/// arrive (or on a server that sends none) the defaults are RFC 1459's.
public struct ISupport: Hashable, Sendable {
    /// One channel membership prefix: the mode letter and the symbol shown before a nick
    /// (`o` / `@`), highest rank first in ``prefixes``.
    public struct MembershipPrefix: Hashable, Sendable {
        public var mode: Character
        public var symbol: Character

        public init(mode: Character, symbol: Character) {
            self.mode = mode
            self.symbol = symbol
        }
    }

    /// Every token as received, `-TOKEN` applied: name → value (`""` for a token without one).
    public private(set) var tokens: [String: String] = [:]

    public init() {}

    /// Builds from tokens, as ``apply(tokens:)`` would.
    public init(tokens: [String]) {
        apply(tokens: tokens)
    }

    /// Applies one `005` message: its parameters between our nick and the closing text
    /// ("are supported by this server"). Other messages are ignored.
    public mutating func apply(_ message: IRCMessage) {
        guard message.command == "005", message.params.count >= 2 else { return }
        // params[0] is our nick; the last one is the human text when it contains a space —
        // a few servers omit it, and then the last parameter is a token.
        var body = message.params.dropFirst()
        if let last = body.last, last.contains(" ") || last.isEmpty { body = body.dropLast() }
        apply(tokens: Array(body))
    }

    /// Applies raw tokens (`CASEMAPPING=ascii`, `-EXCEPTS`, `SAFELIST`).
    public mutating func apply(tokens raw: [String]) {
        for token in raw where !token.isEmpty {
            if token.hasPrefix("-") {
                tokens[String(token.dropFirst())] = nil
            } else if let eq = token.firstIndex(of: "=") {
                tokens[String(token[..<eq])] = Self.unescape(token[token.index(after: eq)...])
            } else {
                tokens[token] = ""
            }
        }
    }

    /// The raw value of a token; `""` when present without a value, `nil` when absent.
    public subscript(token: String) -> String? { tokens[token] }

    /// `CASEMAPPING`, default ``IRCCaseMapping/rfc1459``.
    public var caseMapping: IRCCaseMapping {
        IRCCaseMapping(isupportValue: tokens["CASEMAPPING"])
    }

    /// `CHANTYPES`, default `#&`. A server may announce it empty (no channels at all).
    public var channelTypes: String {
        tokens["CHANTYPES"] ?? IRCAddress.defaultChannelTypes
    }

    /// `PREFIX=(qaohv)~&@%+`, default `(ov)@+`. A malformed value gives the default.
    public var prefixes: [MembershipPrefix] {
        let fallback = [MembershipPrefix(mode: "o", symbol: "@"), MembershipPrefix(mode: "v", symbol: "+")]
        guard let value = tokens["PREFIX"] else { return fallback }
        if value.isEmpty { return [] }
        guard value.first == "(", let close = value.firstIndex(of: ")") else { return fallback }
        let modes = Array(value[value.index(after: value.startIndex)..<close])
        let symbols = Array(value[value.index(after: close)...])
        guard modes.count == symbols.count else { return fallback }
        return zip(modes, symbols).map { MembershipPrefix(mode: $0, symbol: $1) }
    }

    /// `NICKLEN` (or the older `MAXNICKLEN`), `nil` when not announced.
    public var nickLength: Int? {
        positiveInt(tokens["NICKLEN"]) ?? positiveInt(tokens["MAXNICKLEN"])
    }

    /// `MONITOR`: `nil` when the server has no MONITOR (use ISON); otherwise the most targets
    /// it keeps, `Int.max` when it announces no limit.
    public var monitorLimit: Int? {
        guard let value = tokens["MONITOR"] else { return nil }
        return positiveInt(value) ?? Int.max
    }

    /// `CHANLIMIT=#&:100,+:10`: how many channels of each prefix we may join; a prefix without
    /// a number (`#:`) is unlimited (`nil`). Empty when not announced.
    public var channelLimits: [Character: Int?] {
        guard let value = tokens["CHANLIMIT"] else { return [:] }
        var result: [Character: Int?] = [:]
        for item in value.split(separator: ",") {
            guard let colon = item.firstIndex(of: ":") else { continue }
            let limit = positiveInt(String(item[item.index(after: colon)...]))
            for type in item[..<colon] { result[type] = .some(limit) }
        }
        return result
    }

    /// `NETWORK`, the network's name (`Libera.Chat`), for display.
    public var network: String? {
        guard let value = tokens["NETWORK"], !value.isEmpty else { return nil }
        return value
    }

    private func positiveInt(_ s: String?) -> Int? {
        guard let s, let n = Int(s), n > 0 else { return nil }
        return n
    }

    /// ISUPPORT values escape bytes as `\xHH` (e.g. `\x20` for a space, `\x5C` for `\`).
    static func unescape(_ value: Substring) -> String {
        guard value.contains("\\") else { return String(value) }
        var bytes: [UInt8] = []
        let raw = Array(value.utf8)
        var i = 0
        while i < raw.count {
            if raw[i] == UInt8(ascii: "\\"), i + 3 < raw.count, raw[i + 1] == UInt8(ascii: "x"),
                let byte = UInt8(String(decoding: raw[(i + 2)...(i + 3)], as: UTF8.self), radix: 16)
            {
                bytes.append(byte)
                i += 4
            } else {
                bytes.append(raw[i])
                i += 1
            }
        }
        return IRCTextDecoder.decode(bytes)
    }
}
