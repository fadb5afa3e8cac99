/// Why an ``IRCTLSRelay`` could not be opened. There is never a plaintext fallback: every
/// TLS case means no IRC byte was sent to the server, and every SASL case means libircclient
/// never got to connect.
public enum IRCTLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The trust roots or TLS settings are unusable (e.g. the PEM file cannot be read).
    case configuration(String)
    /// The TCP connection to the server failed or timed out.
    case connectFailed(String)
    /// The server's certificate was rejected (untrusted chain, wrong name, expired, ...).
    case verificationFailed(String)
    /// The TLS handshake failed for another reason (protocol mismatch, server closed, ...).
    case handshakeFailed(String)
    /// The loopback listener for libircclient could not be opened.
    case listenFailed(String)
    /// The SASL credentials cannot be sent (a CR, LF or NUL, or an empty user name); nothing
    /// was connected.
    case invalidCredentials(String)
    /// The server refused the SASL login (902, 904–908) or ended the connection during it; the
    /// text is the server's own, meant for the user.
    case saslFailed(String)
    /// The server did not finish the SASL exchange within the relay's `saslTimeout`.
    case saslTimedOut

    public var description: String {
        switch self {
        case .configuration(let text): "TLS configuration error: \(text)"
        case .connectFailed(let text): "TLS connection failed: \(text)"
        case .verificationFailed(let text): "TLS verification failed: \(text)"
        case .handshakeFailed(let text): "TLS handshake failed: \(text)"
        case .listenFailed(let text): "TLS relay listener failed: \(text)"
        case .invalidCredentials(let text): "Invalid SASL credentials: \(text)"
        case .saslFailed(let text): "SASL authentication failed: \(text)"
        case .saslTimedOut: "SASL authentication timed out"
        }
    }
}
