import Foundation
import SMSBridge

/// How a ``StubCarrier`` is set up. Accounts can also be added at run time through
/// `POST /control/accounts`.
public struct StubCarrierConfiguration: Sendable {
    /// The address to listen on. Loopback by default: the stub has no authentication on its
    /// control API and must not be reachable from other machines.
    public var host: String
    /// The port to listen on; 0 picks a free one (reported to `onServerRunning`).
    public var port: Int
    /// The secret every webhook is signed with (see `WebhookSignature`).
    public var webhookSecret: String
    /// The accounts, by account id.
    public var accounts: [String: StubAccount]
    /// The pause between accepting a send and posting its delivery report, so the report does
    /// not overtake the send's own answer.
    public var deliveryReportDelay: Duration
    /// Attempts for each webhook, the first included; retried on 5xx and connection errors.
    public var webhookAttempts: Int
    /// The pause before the second webhook attempt; it doubles for each further one.
    public var webhookInitialBackoff: Duration
    /// The time one webhook attempt may take.
    public var webhookTimeout: Duration

    public init(
        host: String = "127.0.0.1",
        port: Int = 8490,
        webhookSecret: String,
        accounts: [String: StubAccount] = [:],
        deliveryReportDelay: Duration = .milliseconds(50),
        webhookAttempts: Int = 4,
        webhookInitialBackoff: Duration = .milliseconds(200),
        webhookTimeout: Duration = .seconds(5)
    ) {
        self.host = host
        self.port = port
        self.webhookSecret = webhookSecret
        self.accounts = accounts
        self.deliveryReportDelay = deliveryReportDelay
        self.webhookAttempts = max(1, webhookAttempts)
        self.webhookInitialBackoff = webhookInitialBackoff
        self.webhookTimeout = webhookTimeout
    }
}

/// A carrier account on the stub.
public struct StubAccount: Sendable, Hashable, Codable {
    /// The bearer token the send and number APIs require.
    public var token: String
    /// The E.164 numbers the account owns: senders it may use, destinations of inbound SMS.
    public var numbers: [String]
    /// The gateway's webhook base URL: the stub posts to `{webhookURL}/inbound` and
    /// `{webhookURL}/status`. `nil`: no webhooks for this account.
    public var webhookURL: String?

    public init(token: String, numbers: [String], webhookURL: String?) {
        self.token = token
        self.numbers = numbers
        self.webhookURL = webhookURL
    }

    enum CodingKeys: String, CodingKey {
        case token, numbers
        case webhookURL = "webhook_url"
    }

    /// Reads the command-line form `ID:TOKEN:NUMBER[,NUMBER…][:WEBHOOK_BASE_URL]`, e.g.
    /// `acct_1:tok_1:+15550001111,+15550001112:http://127.0.0.1:8480/webhooks/sms`.
    /// The URL, which has colons of its own, is everything after the third colon.
    /// - Returns: the account id and the account, or a sentence saying what is wrong.
    public static func parse(argument: String) -> Result<(id: String, account: StubAccount), StubCarrierError> {
        let parts = argument.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        func invalid(_ reason: String) -> Result<(id: String, account: StubAccount), StubCarrierError> {
            .failure(.invalidAccount(id: parts.first ?? "", reason: "\(reason) (expected ID:TOKEN:NUMBER[,NUMBER…][:WEBHOOK_BASE_URL])"))
        }
        guard parts.count >= 3 else { return invalid("'\(argument)' has too few parts") }
        guard !parts[0].isEmpty else { return invalid("the account id is empty") }
        guard !parts[1].isEmpty else { return invalid("the token is empty") }
        let numbers = parts[2].split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        guard !numbers.isEmpty else { return invalid("there is no number") }
        if let bad = numbers.first(where: { PhoneNumber(e164: $0) == nil }) {
            return invalid("'\(bad)' is not an E.164 number (+ then 8 to 15 digits)")
        }
        let url = parts.count == 4 && !parts[3].isEmpty ? parts[3] : nil
        return .success((parts[0], StubAccount(token: parts[1], numbers: numbers, webhookURL: url)))
    }
}
