import XMPPCore

/// Why a component link went down, with what an admin should do about it.
public enum LinkFailure: Error, Sendable, Hashable {
    /// No TCP connection could be made.
    case connectFailed(String)
    /// The server refused the handshake: the secrets differ.
    case notAuthorized
    /// Another component is already connected for this domain.
    case conflict
    /// The server has no component for this domain.
    case hostUnknown
    /// Some other stream error from the server.
    case streamError(StreamError)
    /// The server closed the stream or the socket.
    case closedByServer
    /// No handshake answer in time.
    case handshakeTimeout
    /// A ping went unanswered: the link is dead.
    case pingTimeout
    /// The server sent something this end could not accept (bad XML, no stream id…).
    case protocolViolation(String)

    /// A log line that says what happened and what to fix.
    public func explanation(domain: String, host: String, port: Int) -> String {
        switch self {
        case .connectFailed(let reason):
            return "cannot connect to the XMPP server's component port \(host):\(port) (\(reason)); is the server running, and does it listen for components there (Prosody: component_ports, component_interface)?"
        case .notAuthorized:
            return "the XMPP server refused the handshake for \(domain) (not-authorized): the secret in this bridge's bridge.toml differs from the component secret the server has for \(domain) (Prosody: component_secret)"
        case .conflict:
            return "the XMPP server refused \(domain) (conflict): another component is already connected for this domain; stop the other gateway or give this bridge another domain"
        case .hostUnknown:
            return "the XMPP server does not know the component \(domain) (host-unknown): add it to the server's config (Prosody: Component \"\(domain)\") or fix the domain in bridge.toml"
        case .streamError(let error):
            return "the XMPP server closed the stream for \(domain) with stream error \(error.condition.rawValue)\(error.text.map { ": \($0)" } ?? "")"
        case .closedByServer:
            return "the XMPP server closed the component stream for \(domain)"
        case .handshakeTimeout:
            return "the XMPP server did not answer the handshake for \(domain) in time"
        case .pingTimeout:
            return "the XMPP server did not answer a ping on the link for \(domain): the link is dead"
        case .protocolViolation(let reason):
            return "the XMPP server sent something invalid on the link for \(domain): \(reason)"
        }
    }

    /// Failures an admin must fix in configuration; retrying alone will not help.
    public var needsConfigurationChange: Bool {
        switch self {
        case .notAuthorized, .conflict, .hostUnknown: true
        default: false
        }
    }
}
