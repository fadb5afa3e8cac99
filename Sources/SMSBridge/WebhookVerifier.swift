/// The outcome of checking a webhook's signature.
public enum WebhookVerdict: Sendable, Hashable {
    /// The request is authentic and fresh. `signature` is the matching signature, normalized to
    /// `v1=<lower-case hex>`: record it to refuse replays (see ``ReplayCache``).
    case valid(signature: String)
    /// The request must be refused with HTTP `status` (401 or 403); `reason` is for the log.
    case rejected(status: Int, reason: String)
}

/// Checks the signature and freshness of a webhook the carrier sent (see ``WebhookSignature``).
///
/// Replays inside the tolerance window are not caught here: the caller records each valid
/// signature (in its store, or in a ``ReplayCache``) and refuses one it has seen.
public struct WebhookVerifier: Sendable {
    private let secret: [UInt8]
    /// How far, in seconds, the signed timestamp may be from the receiver's clock, either way.
    public let tolerance: Int

    /// - Parameters:
    ///   - secret: the webhook secret shared with the carrier; must not be empty.
    ///   - tolerance: the allowed clock difference in seconds, 300 by default.
    public init(secret: [UInt8], tolerance: Int = 300) {
        self.secret = secret
        self.tolerance = tolerance
    }

    /// Uses the secret's UTF-8 bytes as key.
    public init(secret: String, tolerance: Int = 300) {
        self.init(secret: Array(secret.utf8), tolerance: tolerance)
    }

    /// Checks one request.
    ///
    /// - Parameters:
    ///   - timestampHeader: the value of `X-Carrier-Timestamp`, if present.
    ///   - signatureHeader: the value of `X-Carrier-Signature`, if present.
    ///   - body: the raw request body, exactly as received (before any JSON decoding).
    ///   - now: the receiver's clock, in Unix seconds.
    /// - Returns: `.rejected(status: 401, …)` when a header is missing; `.rejected(status: 403, …)`
    ///   when a header cannot be read, the signature does not match, or the timestamp is
    ///   further than ``tolerance`` from `now`; otherwise `.valid`.
    public func verify(timestampHeader: String?, signatureHeader: String?, body: [UInt8], now: Int) -> WebhookVerdict {
        guard let timestampHeader, let signatureHeader else {
            return .rejected(status: 401, reason: "missing \(WebhookSignature.timestampHeader) or \(WebhookSignature.signatureHeader) header")
        }
        let timestampText = timestampHeader.trimmingWhitespace()
        guard !timestampText.isEmpty, timestampText.utf8.count <= 18,
              timestampText.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              let timestamp = Int(timestampText)
        else {
            return .rejected(status: 403, reason: "unreadable timestamp '\(timestampHeader.prefix(40))'")
        }

        var candidates: [[UInt8]] = []
        for part in signatureHeader.split(separator: ",") {
            let trimmed = Substring(String(part).trimmingWhitespace())
            // Other versions may appear alongside v1 in the future; skip them.
            guard trimmed.hasPrefix(WebhookSignature.versionPrefix) else { continue }
            guard let bytes = WebhookSignature.bytes(fromHex: trimmed.dropFirst(WebhookSignature.versionPrefix.count)),
                  bytes.count == 32
            else {
                return .rejected(status: 403, reason: "unreadable signature")
            }
            candidates.append(bytes)
        }
        guard !candidates.isEmpty else {
            return .rejected(status: 403, reason: "no v1 signature")
        }

        // The signature is checked before the age, so an unauthenticated sender learns nothing
        // about our clock; the age is what protects against replays of old captures.
        let expected = WebhookSignature.mac(secret: secret, timestamp: timestamp, body: body)
        var matched = false
        for candidate in candidates {
            // No early exit: every candidate is compared, whatever matched before.
            matched = WebhookSignature.constantTimeEqual(candidate, expected) || matched
        }
        guard matched else {
            return .rejected(status: 403, reason: "signature does not match")
        }
        let age = now - timestamp
        guard abs(age) <= tolerance else {
            return .rejected(status: 403, reason: "stale timestamp: \(age) s from now, tolerance \(tolerance) s")
        }
        return .valid(signature: WebhookSignature.versionPrefix + WebhookSignature.hex(expected))
    }
}
