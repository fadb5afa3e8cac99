import XMPPCore

/// A bridge that only answers the core queries (disco, version, ping): it proves a server's
/// component setup before a real network is bridged. It offers no registration.
public struct CoreOnlyBridge: Bridge {
    public static let kind = BridgeKind(
        name: "core", gatewayType: "xmpp",
        summary: "answers disco, version and ping only; for checking the XMPP server's component setup"
    )

    public let identity: BridgeIdentity

    public init(identity: BridgeIdentity) {
        self.identity = identity
    }

    public var registrationFields: [RegistrationField] { [] }
    public var registrationInstructions: String { "" }
    public var contactPrompt: ContactPrompt { ContactPrompt(description: "", prompt: "") }

    public func start(events: BridgeEventSink) async {}

    public func validateRegistration(_ submission: RegistrationSubmission) async throws(RegistrationError) -> RegistrationRecord {
        throw RegistrationError(field: nil, "\(identity.domain) offers no registration", condition: .serviceUnavailable)
    }

    public func logIn(_ account: BridgeAccount) async throws(BridgeError) {
        throw BridgeError(.serviceUnavailable, "\(identity.domain) bridges no network")
    }

    public func logOut(user: String) async {}

    public func send(_ message: OutgoingMessage, from account: BridgeAccount) async throws(BridgeError) -> String? {
        throw BridgeError(.serviceUnavailable, "\(identity.domain) bridges no network")
    }

    public func normalizeAddress(_ input: String) -> Result<String, AddressError> {
        .failure(AddressError("\(identity.domain) bridges no network"))
    }
}
