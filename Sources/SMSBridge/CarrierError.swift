/// Why a call to the carrier did not succeed.
public enum CarrierError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The carrier refused the request (HTTP 400, 404, 422 and other 4xx but 401) and said why.
    /// `message` is the carrier's sentence for a person: the bridge returns it to the XMPP user
    /// as the text of a stanza error. Not retried: the same request would be refused again.
    case refused(code: String, message: String)
    /// The carrier does not accept the account's token (HTTP 401), or the token holds characters
    /// no HTTP header can carry, so no carrier could: the user must fix the registration.
    case unauthorized
    /// The carrier could not be reached or kept failing (5xx, connection errors, timeouts) after
    /// every attempt, or cannot be reached at all (an unusable base URL, a client shut down),
    /// which is not retried. Safe to try again later with the same idempotency key.
    case unavailable(String)
    /// The carrier answered something this client cannot read.
    case invalidResponse(String)

    public var description: String {
        switch self {
        case .refused(let code, let message):
            return "the carrier refused the message: \(message) (\(code))"
        case .unauthorized:
            return "the carrier did not accept the account's token"
        case .unavailable(let reason):
            return "the carrier is unavailable: \(reason)"
        case .invalidResponse(let reason):
            return "the carrier sent an unreadable answer: \(reason)"
        }
    }
}
