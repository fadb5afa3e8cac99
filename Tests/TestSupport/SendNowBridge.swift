import GatewayCore
import Synchronization

/// A bridge for tests of the synchronous send path: it sends at once (``sendNow(_:from:)``),
/// except to numbers starting "+1999", which must wait for the async path. It records how each
/// message reached it.
public final class SendNowBridge: Bridge {
    public let identity = BridgeIdentity(domain: "now.localhost", name: "Now", gatewayType: "sms")
    private let record = Mutex<(sentNow: [OutgoingMessage], log: [String])>(([], []))
    private let events = Mutex<(any BridgeEventSink)?>(nil)

    public init() {}

    /// The messages sent synchronously, in order.
    public var sentNow: [OutgoingMessage] { record.withLock { $0.sentNow } }
    /// Every message, in order, as "<body>: now, alone", "<body>: now, in a batch" (an
    /// ``OutputBatch`` was current) or "<body>: async".
    public var log: [String] { record.withLock { $0.log } }

    public var registrationFields: [RegistrationField] { [RegistrationField("name", label: "Name", legacyElement: "username")] }
    public var registrationInstructions: String { "" }
    public var contactPrompt: ContactPrompt { ContactPrompt(description: "Number", prompt: "Number") }

    public func start(events: BridgeEventSink) async {
        self.events.withLock { $0 = events }
    }

    /// Reports `event` to the gateway, as the network would.
    public func report(_ event: BridgeEvent) async throws {
        let sink = events.withLock { $0 }
        try await sink?.report(event)
    }

    public func validateRegistration(_ submission: RegistrationSubmission) async throws(RegistrationError) -> RegistrationRecord {
        RegistrationRecord(legacyID: submission.values["name"], fields: submission.values, secrets: [:])
    }

    public func logIn(_ account: BridgeAccount) async throws(BridgeError) {}
    public func logOut(user: String) async {}

    public func send(_ message: OutgoingMessage, from account: BridgeAccount) async throws(BridgeError) -> String? {
        record.withLock { $0.log.append("\(message.body): async") }
        return nil
    }

    public func sendNow(_ message: OutgoingMessage, from account: BridgeAccount) -> SendNowOutcome {
        guard !message.to.hasPrefix("+1999") else { return .mustWait }
        let count = record.withLock { record in
            record.sentNow.append(message)
            record.log.append("\(message.body): now, \(OutputBatch.current == nil ? "alone" : "in a batch")")
            return record.sentNow.count
        }
        return .sent(legacyMessageID: "now-\(count)")
    }

    public func normalizeAddress(_ input: String) -> Result<String, AddressError> {
        .success(input)
    }
}
