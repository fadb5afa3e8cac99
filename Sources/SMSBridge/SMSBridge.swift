import AsyncHTTPClient
import Foundation
import GatewayCore
import Logging
import XMPPCore

/// The SMS bridge: users register their number at a carrier; contacts are E.164 numbers
/// (`+15551234567@sms.example.org`). Outgoing texts go to the carrier's HTTP API; incoming texts
/// and delivery reports arrive as signed webhooks.
public actor SMSBridge: Bridge {
    public static let kind = BridgeKind(name: "sms", gatewayType: "sms", summary: "SMS through a carrier's HTTP API and signed webhooks")

    public nonisolated let identity: BridgeIdentity
    private let settings: SMSBridgeSettings
    private let client: CarrierClient
    private let verifier: WebhookVerifier
    private let replays = ReplayCache()
    private let logger: Logger
    private var events: BridgeEventSink?

    public init(identity: BridgeIdentity, settings: SMSBridgeSettings, httpClient: HTTPClient, logger: Logger) {
        self.identity = identity
        self.settings = settings
        self.client = CarrierClient(
            httpClient: httpClient,
            configuration: .init(baseURL: settings.apiURL, maxAttempts: settings.attempts, requestTimeout: settings.requestTimeout),
            logger: logger
        )
        self.verifier = WebhookVerifier(secret: settings.webhookSecret)
        self.logger = logger
    }

    // MARK: - Registration

    public nonisolated var registrationFields: [RegistrationField] {
        [
            RegistrationField("phone", label: "Your phone number", description: "The number at your carrier, e.g. +1 555 123 4567", legacyElement: "phone"),
            RegistrationField("account", label: "Carrier account id", legacyElement: "username"),
            RegistrationField("token", label: "Carrier API token", kind: .secret, legacyElement: "password"),
        ]
    }

    public nonisolated var registrationInstructions: String {
        "Enter your phone number and your carrier account id and API token. The gateway checks them with the carrier."
    }

    public nonisolated var contactPrompt: ContactPrompt {
        ContactPrompt(description: "Enter the phone number of the contact, e.g. +1 555 123 4567", prompt: "Phone number")
    }

    public func start(events: BridgeEventSink) async {
        self.events = events
    }

    public func validateRegistration(_ submission: RegistrationSubmission) async throws(RegistrationError) -> RegistrationRecord {
        let phone: PhoneNumber
        switch PhoneNumber.parse(submission.values["phone"] ?? "", defaultCountryCode: settings.defaultCountryCode) {
        case .success(let number): phone = number
        case .failure(let error): throw RegistrationError(field: "phone", "Phone number: \(error)")
        }
        let account = submission.values["account"] ?? ""
        let token = submission.values["token"] ?? ""
        do {
            guard try await client.checkNumber(phone, accountID: account, token: token) else {
                throw RegistrationError(field: "phone", "The carrier says account \(account) does not have the number \(phone)")
            }
        } catch let error as RegistrationError {
            throw error
        } catch CarrierError.unauthorized {
            throw RegistrationError(field: "token", "The carrier refused this account id and token")
        } catch CarrierError.refused(_, let message) {
            throw RegistrationError(field: "account", "The carrier refused the account: \(message)")
        } catch {
            throw RegistrationError(field: nil, "The carrier could not be asked to check the number: \(error)", condition: .remoteServerTimeout)
        }
        return RegistrationRecord(legacyID: phone.e164, fields: ["phone": phone.e164, "account": account], secrets: ["token": token])
    }

    // MARK: - Sessions

    /// SMS has no session to open: texts arrive whether or not the user is online, and go to
    /// their bare JID. Logging in only checks the registration is complete.
    public func logIn(_ account: BridgeAccount) async throws(BridgeError) {
        guard account.record.fields["phone"] != nil, account.record.secrets["token"] != nil else {
            throw BridgeError(.notAuthorized, "The registration lacks a number or token; register again")
        }
    }

    public func logOut(user: String) async {}

    // MARK: - Sending

    public func send(_ message: OutgoingMessage, from account: BridgeAccount) async throws(BridgeError) -> String? {
        guard let fromNumber = account.record.fields["phone"].flatMap(PhoneNumber.init(e164:)),
              let accountID = account.record.fields["account"], let token = account.record.secrets["token"] else {
            throw BridgeError(.notAuthorized, "The registration lacks a number or token; register again")
        }
        let to: PhoneNumber
        switch PhoneNumber.parse(message.to, defaultCountryCode: settings.defaultCountryCode) {
        case .success(let number): to = number
        case .failure(let error): throw BridgeError(.jidMalformed, "\(error)")
        }
        let (encoding, count) = SMSSegmenter.segments(for: message.body)
        guard count <= settings.maxSegments else {
            throw BridgeError(.notAcceptable, "The text needs \(count) SMS segments (\(encoding)); at most \(settings.maxSegments) are sent. Shorten it or split it.")
        }
        // One key per XMPP message, so a retry after a timeout never sends the text twice.
        let key = message.xmppID.map { "\(account.user)/\($0)" } ?? UUID().uuidString
        do {
            let receipt = try await client.send(from: fromNumber, to: to, text: message.body, accountID: accountID, token: token, idempotencyKey: key)
            return receipt.id
        } catch {
            throw Self.bridgeError(error)
        }
    }

    static func bridgeError(_ error: CarrierError) -> BridgeError {
        switch error {
        case .refused(_, let message): BridgeError(.notAcceptable, "The carrier refused the text: \(message)")
        case .unauthorized: BridgeError(.notAuthorized, "The carrier refused your account id or token; change them with the registration command")
        case .unavailable(let reason): BridgeError(.remoteServerTimeout, "The carrier could not be reached: \(reason)")
        case .invalidResponse(let reason): BridgeError(.undefinedCondition, "The carrier answered something unexpected: \(reason)")
        }
    }

    // MARK: - Addresses

    public nonisolated func normalizeAddress(_ input: String) -> Result<String, AddressError> {
        switch PhoneNumber.parse(input, defaultCountryCode: settings.defaultCountryCode) {
        case .success(let number): .success(number.e164)
        case .failure(let error): .failure(AddressError("\(error)"))
        }
    }

    public nonisolated func contactProfile(_ address: String) -> ContactProfile {
        ContactProfile(name: address, category: "client", type: "sms", telephone: address)
    }

    // MARK: - Webhooks

    /// `POST /inbound` (texts) and `POST /status` (delivery reports) from the carrier, signed.
    public func handleWebhook(_ request: WebhookRequest) async -> WebhookResponse {
        guard request.method == "POST", request.path == "/inbound" || request.path == "/status" else {
            return WebhookResponse(status: 404, body: "unknown endpoint \(request.method) \(request.path)")
        }
        let now = Int(Date().timeIntervalSince1970)
        let verdict = verifier.verify(
            timestampHeader: request.header(WebhookSignature.timestampHeader),
            signatureHeader: request.header(WebhookSignature.signatureHeader),
            body: request.body, now: now
        )
        switch verdict {
        case .rejected(let status, let reason):
            logger.warning("webhook refused: \(reason)", metadata: ["status": "\(status)"])
            return WebhookResponse(status: status, body: reason)
        case .valid(let signature):
            guard replays.firstSighting(signature, at: now) else {
                logger.warning("webhook refused: replayed signature")
                return WebhookResponse(status: 403, body: "replayed request")
            }
        }
        let signature: String
        switch verdict {
        case .valid(let value): signature = value
        case .rejected: return WebhookResponse(status: 500, body: "unreachable")
        }
        let response = await process(request.body)
        if response.status >= 500 {
            // The carrier will send the same signed request again: that is a retry, not a replay.
            replays.forget(signature)
        }
        return response
    }

    private func process(_ body: [UInt8]) async -> WebhookResponse {
        let webhook: CarrierWebhook
        do {
            webhook = try JSONDecoder().decode(CarrierWebhook.self, from: Data(body))
        } catch {
            return WebhookResponse(status: 400, body: "malformed JSON: \(error)")
        }
        guard let events else { return WebhookResponse(status: 503, body: "the bridge is starting") }
        do {
            switch webhook {
            case .message(let sms):
                guard case .success(let to) = normalizeAddress(sms.to), let account = await events.account(forLegacyID: to) else {
                    return WebhookResponse(status: 404, body: "no user is registered for \(sms.to)")
                }
                guard case .success(let from) = normalizeAddress(sms.from) else {
                    return WebhookResponse(status: 400, body: "'\(sms.from)' is not a phone number")
                }
                try await events.report(.message(user: account.user, from: from, body: sms.text, legacyMessageID: sms.id))
            case .status(let report):
                let outcome: DeliveryOutcome = report.status == .delivered
                    ? .delivered
                    : .failed(report.error?.message ?? "The text could not be delivered")
                try await events.report(.delivery(user: "", legacyMessageID: report.id, outcome: outcome))
            }
        } catch {
            logger.error("webhook could not be stored; the carrier will retry: \(error)")
            return WebhookResponse(status: 500, body: "try again")
        }
        return WebhookResponse(status: 200, body: "ok")
    }
}
