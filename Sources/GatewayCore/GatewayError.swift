/// Why the gateway could not take an event from a bridge yet.
public enum GatewayError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A delivery report for a message the gateway has no record of (yet).
    case unknownMessage(String)

    public var description: String {
        switch self {
        case .unknownMessage(let id): "no sent message has the network id \(id)"
        }
    }
}
