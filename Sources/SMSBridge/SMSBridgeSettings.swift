/// What `bridge.toml`'s `[carrier]` table says for an SMS bridge.
public struct SMSBridgeSettings: Sendable, Hashable {
    /// The carrier API's base URL.
    public var apiURL: String
    /// The key the carrier signs webhooks with.
    public var webhookSecret: String
    /// The calling code for numbers typed in national form (`"1"`, `"44"`); nil: always `+…`.
    public var defaultCountryCode: String?
    /// The longest text sent, in segments; longer ones are refused, never cut.
    public var maxSegments = 10
    public var requestTimeout: Duration = .seconds(10)
    /// Tries per API request on 5xx, connection errors and timeouts.
    public var attempts = 4

    public init(apiURL: String, webhookSecret: String) {
        self.apiURL = apiURL
        self.webhookSecret = webhookSecret
    }
}

extension SMSBridgeSettings: CustomStringConvertible {
    /// Everything but the webhook secret, which must never reach a log.
    public var description: String {
        "SMSBridgeSettings(apiURL: \(apiURL), defaultCountryCode: \(defaultCountryCode ?? "none"), maxSegments: \(maxSegments), webhookSecret: <redacted>)"
    }
}
