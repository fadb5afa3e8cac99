/// The stub carrier's control API, for tests and for people trying the SMS bridge by hand.
/// It has no authentication: keep the stub on loopback. (docs/sms-carrier-api.md has examples.)
///
/// - `POST /control/accounts` ``StubAccountRegistration`` → 200 ``StubAccountSummary``: adds or
///   replaces an account. 409 if a number already belongs to another account.
/// - `GET /control/accounts` → 200 `{"accounts": [StubAccountSummary]}`.
/// - `POST /control/inbound` ``InboundInjection`` → ``InboundInjectionResult``, 200 when the
///   gateway answered the signed webhook with 2xx, 502 when it did not after every attempt;
///   404 if no account owns `to`, 422 if `from` is not E.164.
/// - `GET /control/sent[?to=+1…]` → 200 ``SentMessageList``: accepted sends, oldest first.
/// - `POST /control/failures` ``FailurePlan`` → 200 ``FailurePlan``: replaces the failure plan.
/// - `GET /control/webhooks` → 200 ``WebhookDeliveryList``: every webhook posted, oldest first.
/// - `POST /control/reset` → 204: forgets sent messages, idempotency keys, webhook log and
///   failure plan; keeps accounts.
public enum StubControlAPI {}

/// Adds or replaces an account: `{"id", "token", "numbers": [...], "webhook_url"}`
/// (`webhook_base_url` is accepted for `webhook_url`; either may be left out: no webhooks).
public struct StubAccountRegistration: Codable, Sendable, Hashable {
    public var id: String
    public var token: String
    public var numbers: [String]
    public var webhookURL: String?

    public init(id: String, token: String, numbers: [String], webhookURL: String?) {
        self.id = id
        self.token = token
        self.numbers = numbers
        self.webhookURL = webhookURL
    }

    enum CodingKeys: String, CodingKey {
        case id, token, numbers
        case webhookURL = "webhook_url"
        /// Accepted on input as another name for `webhook_url`.
        case webhookBaseURL = "webhook_base_url"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(String.self, forKey: .id)
        self.token = try container.decode(String.self, forKey: .token)
        self.numbers = try container.decode([String].self, forKey: .numbers)
        self.webhookURL = try container.decodeIfPresent(String.self, forKey: .webhookURL)
            ?? container.decodeIfPresent(String.self, forKey: .webhookBaseURL)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(token, forKey: .token)
        try container.encode(numbers, forKey: .numbers)
        try container.encodeIfPresent(webhookURL, forKey: .webhookURL)
    }
}

/// An account as the control API shows it (without its token).
public struct StubAccountSummary: Codable, Sendable, Hashable {
    public var id: String
    public var numbers: [String]
    public var webhookURL: String?

    public init(id: String, numbers: [String], webhookURL: String?) {
        self.id = id
        self.numbers = numbers
        self.webhookURL = webhookURL
    }

    enum CodingKeys: String, CodingKey {
        case id, numbers
        case webhookURL = "webhook_url"
    }
}

/// Asks the stub to deliver an inbound SMS: `{"account"?, "from", "to", "text"}`. The account
/// is found from `to` when not given.
public struct InboundInjection: Codable, Sendable, Hashable {
    public var account: String?
    public var from: String
    public var to: String
    public var text: String

    public init(account: String? = nil, from: String, to: String, text: String) {
        self.account = account
        self.from = from
        self.to = to
        self.text = text
    }
}

/// What became of an injected inbound SMS.
public struct InboundInjectionResult: Codable, Sendable, Hashable {
    /// The id the webhook carried (`in_…`).
    public var id: String
    /// The HTTP status of the gateway's last answer; `nil` if it never answered.
    public var webhookStatus: Int?
    /// Webhook attempts made.
    public var attempts: Int
    /// The last connection error, if any.
    public var error: String?

    public init(id: String, webhookStatus: Int?, attempts: Int, error: String?) {
        self.id = id
        self.webhookStatus = webhookStatus
        self.attempts = attempts
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case id, attempts, error
        case webhookStatus = "webhook_status"
    }
}

/// A message the send API accepted.
public struct SentMessage: Codable, Sendable, Hashable {
    public var id: String
    public var account: String
    public var from: String
    public var to: String
    public var text: String
    public var segments: Int
    public var idempotencyKey: String?
    /// `queued`, then `delivered` or `failed` once the delivery report is decided.
    public var status: String

    public init(id: String, account: String, from: String, to: String, text: String, segments: Int, idempotencyKey: String?, status: String) {
        self.id = id
        self.account = account
        self.from = from
        self.to = to
        self.text = text
        self.segments = segments
        self.idempotencyKey = idempotencyKey
        self.status = status
    }

    enum CodingKeys: String, CodingKey {
        case id, account, from, to, text, segments, status
        case idempotencyKey = "idempotency_key"
    }
}

/// `{"messages": [SentMessage]}`.
public struct SentMessageList: Codable, Sendable, Hashable {
    public var messages: [SentMessage]

    public init(messages: [SentMessage]) {
        self.messages = messages
    }
}

/// Failures the stub simulates. Every field is optional in the request; a missing one means
/// none of that failure.
public struct FailurePlan: Codable, Sendable, Hashable {
    /// Sends to these numbers are accepted, then reported `failed` (`unreachable`).
    public var bounceNumbers: [String]
    /// Sends to these numbers are refused at once with 422 `unroutable`.
    public var unroutableNumbers: [String]
    /// The next this many send requests are answered 503.
    public var serverErrors: Int
    /// Every answer of the carrier API (not the control API) is delayed by this many milliseconds.
    public var delayMilliseconds: Int

    public init(bounceNumbers: [String] = [], unroutableNumbers: [String] = [], serverErrors: Int = 0, delayMilliseconds: Int = 0) {
        self.bounceNumbers = bounceNumbers
        self.unroutableNumbers = unroutableNumbers
        self.serverErrors = serverErrors
        self.delayMilliseconds = delayMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case bounceNumbers = "bounce_numbers"
        case unroutableNumbers = "unroutable_numbers"
        case serverErrors = "server_errors"
        case delayMilliseconds = "delay_ms"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.bounceNumbers = try container.decodeIfPresent([String].self, forKey: .bounceNumbers) ?? []
        self.unroutableNumbers = try container.decodeIfPresent([String].self, forKey: .unroutableNumbers) ?? []
        self.serverErrors = max(0, try container.decodeIfPresent(Int.self, forKey: .serverErrors) ?? 0)
        self.delayMilliseconds = max(0, try container.decodeIfPresent(Int.self, forKey: .delayMilliseconds) ?? 0)
    }
}

/// One webhook the stub posted (all its attempts).
public struct WebhookDelivery: Codable, Sendable, Hashable {
    /// `message` or `status`.
    public var type: String
    /// The event's id (`in_…` or `msg_…`).
    public var id: String
    public var url: String
    /// The gateway's last HTTP status; `nil` if it never answered.
    public var status: Int?
    public var attempts: Int
    public var error: String?

    public init(type: String, id: String, url: String, status: Int?, attempts: Int, error: String?) {
        self.type = type
        self.id = id
        self.url = url
        self.status = status
        self.attempts = attempts
        self.error = error
    }
}

/// `{"webhooks": [WebhookDelivery]}`.
public struct WebhookDeliveryList: Codable, Sendable, Hashable {
    public var webhooks: [WebhookDelivery]

    public init(webhooks: [WebhookDelivery]) {
        self.webhooks = webhooks
    }
}
