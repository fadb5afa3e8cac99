/// Why an ``IRCTLSRelay`` could not be opened. There is never a plaintext fallback: every
/// case means no IRC byte was sent to the server.
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

    public var description: String {
        switch self {
        case .configuration(let text): "TLS configuration error: \(text)"
        case .connectFailed(let text): "TLS connection failed: \(text)"
        case .verificationFailed(let text): "TLS verification failed: \(text)"
        case .handshakeFailed(let text): "TLS handshake failed: \(text)"
        case .listenFailed(let text): "TLS relay listener failed: \(text)"
        }
    }
}
