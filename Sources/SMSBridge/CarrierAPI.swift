import Foundation

/// The SMS carrier's HTTP API, as the bridge uses it and the stub carrier serves it.
/// (docs/sms-carrier-api.md has the same text with examples.)
///
/// All bodies are JSON (`Content-Type: application/json`, UTF-8). Phone numbers are E.164
/// strings (`"+15550001111"`). Every request to the carrier carries
/// `Authorization: Bearer <account token>`.
///
/// **Send a message**
/// ```
/// POST {base}/v1/accounts/{accountID}/messages
/// Authorization: Bearer {token}
/// Idempotency-Key: {key}
/// {"from": "+15550001111", "to": "+15552223333", "text": "Hello"}
///
/// 202 {"id": "msg_3f9a0c2d4e5b6a71", "segments": 1, "status": "queued"}
/// ```
/// `from` must be a number the account owns. A second request with the same idempotency key
/// (per account) gets the same answer and sends nothing; the same key with a different body is
/// refused with 422 `idempotency_conflict`. The key is optional for the carrier; the bridge
/// always sends one and keeps it across retries.
///
/// Errors: `400` or `422` with `{"error": {"code": "…", "message": "…"}}` where the code is one of
/// `invalid_request` (unreadable JSON or missing field), `invalid_number` (`to` or `from` not
/// E.164), `invalid_sender` (`from` not owned by the account), `unroutable`, `empty_text`,
/// `text_too_long` (more than 10 segments), `idempotency_conflict`; the message is a sentence
/// for a person. `401` wrong or missing token; `404` unknown account (code `unknown_account`);
/// `5xx` transient, retry with the same key.
///
/// **Check a number**
/// ```
/// GET {base}/v1/accounts/{accountID}/numbers/{e164}
/// Authorization: Bearer {token}
///
/// 200 {"number": "+15550001111", "account": "acct_1"}
/// ```
/// `404` if the account does not own the number (or does not exist), `401` wrong token. The
/// `+` may be sent as `%2B`.
///
/// **Webhooks** (the carrier POSTs them to the gateway)
/// ```
/// POST {webhook base}/inbound
/// {"type": "message", "id": "in_…", "from": "+1…", "to": "+1…", "text": "…",
///  "received_at": "2025-01-31T12:00:00Z"}
///
/// POST {webhook base}/status
/// {"type": "status", "id": "msg_…", "status": "delivered"}
/// {"type": "status", "id": "msg_…", "status": "failed",
///  "error": {"code": "unreachable", "message": "Number unreachable"}}
/// ```
/// Each carries `X-Carrier-Timestamp: <unix seconds>` and
/// `X-Carrier-Signature: v1=<lower-case hex HMAC-SHA256(webhook secret, "<timestamp>.<raw body>")>`
/// (see ``WebhookSignature``). The gateway answers 2xx once it has taken the event; the carrier
/// retries on 5xx and connection errors, so the gateway must treat a repeated `id` as done.
public enum CarrierAPI {
    /// The header carrying the idempotency key of a send.
    public static let idempotencyKeyHeader = "Idempotency-Key"
    /// The most segments the carrier accepts in one message.
    public static let maxSegments = 10

    /// The encoder for every body on the carrier API: stable key order, `/` not escaped.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

/// The body of a send request.
public struct SendMessageRequest: Codable, Sendable, Hashable {
    public var from: String
    public var to: String
    public var text: String

    public init(from: String, to: String, text: String) {
        self.from = from
        self.to = to
        self.text = text
    }
}

/// The carrier's answer to an accepted send (HTTP 202).
public struct SendReceipt: Codable, Sendable, Hashable {
    /// The carrier's message id (`msg_…`); delivery reports refer to it.
    public var id: String
    /// How many SMS segments the carrier bills and sends.
    public var segments: Int
    /// Always `queued` on acceptance; the outcome arrives later as a ``DeliveryReport``.
    public var status: String

    public init(id: String, segments: Int, status: String = "queued") {
        self.id = id
        self.segments = segments
        self.status = status
    }
}

/// A reason the carrier gives: in error answers and in failed delivery reports.
public struct CarrierErrorDetail: Codable, Sendable, Hashable {
    /// A stable machine-readable code, e.g. `invalid_number`.
    public var code: String
    /// A sentence for a person.
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

/// The body of every 4xx/5xx answer: `{"error": {"code": …, "message": …}}`.
public struct CarrierErrorBody: Codable, Sendable, Hashable {
    public var error: CarrierErrorDetail

    public init(code: String, message: String) {
        self.error = CarrierErrorDetail(code: code, message: message)
    }
}

/// The answer to a number check when the account owns the number.
public struct NumberOwnership: Codable, Sendable, Hashable {
    public var number: String
    public var account: String

    public init(number: String, account: String) {
        self.number = number
        self.account = account
    }
}

/// An SMS someone sent to one of the account's numbers (webhook `type` `message`).
public struct InboundSMS: Codable, Sendable, Hashable {
    /// The carrier's id (`in_…`); the same on every retry of the webhook.
    public var id: String
    public var from: String
    public var to: String
    public var text: String
    /// When the carrier received it, RFC 3339 (`2025-01-31T12:00:00Z`).
    public var receivedAt: String

    public init(id: String, from: String, to: String, text: String, receivedAt: String) {
        self.id = id
        self.from = from
        self.to = to
        self.text = text
        self.receivedAt = receivedAt
    }

    /// ``receivedAt`` as a date, if it is readable RFC 3339 (fractional seconds allowed).
    public var receivedDate: Date? {
        if let date = try? Date(receivedAt, strategy: .iso8601) { return date }
        return try? Date(receivedAt, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    enum CodingKeys: String, CodingKey {
        case id, from, to, text
        case receivedAt = "received_at"
    }
}

/// The outcome of a sent message.
public enum DeliveryStatus: String, Codable, Sendable, Hashable {
    case delivered
    case failed
}

/// What became of a sent message (webhook `type` `status`).
public struct DeliveryReport: Codable, Sendable, Hashable {
    /// The id from the ``SendReceipt``.
    public var id: String
    public var status: DeliveryStatus
    /// Why it failed; only with `failed`.
    public var error: CarrierErrorDetail?

    public init(id: String, status: DeliveryStatus, error: CarrierErrorDetail? = nil) {
        self.id = id
        self.status = status
        self.error = error
    }
}

/// A webhook body, told apart by its `type` field.
public enum CarrierWebhook: Codable, Sendable, Hashable {
    case message(InboundSMS)
    case status(DeliveryReport)

    private enum TypeKey: String, CodingKey { case type }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: TypeKey.self)
        switch try container.decode(String.self, forKey: .type) {
        case "message": self = .message(try InboundSMS(from: decoder))
        case "status": self = .status(try DeliveryReport(from: decoder))
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container, debugDescription: "unknown webhook type '\(other)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: TypeKey.self)
        switch self {
        case .message(let message):
            try container.encode("message", forKey: .type)
            try message.encode(to: encoder)
        case .status(let report):
            try container.encode("status", forKey: .type)
            try report.encode(to: encoder)
        }
    }
}
