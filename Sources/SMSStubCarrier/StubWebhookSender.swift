import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import SMSBridge

/// Posts signed webhooks to the gateway the way a real carrier does: signed with the webhook
/// secret, retried with backoff on 5xx answers and connection errors, given up after a few
/// attempts.
struct StubWebhookSender: Sendable {
    let httpClient: HTTPClient
    let secret: [UInt8]
    let attempts: Int
    let initialBackoff: Duration
    let timeout: Duration
    let logger: Logger

    /// Posts `webhook` to `url` and returns what happened. Each attempt is signed afresh, with
    /// the time it is sent, so a long retry sequence never arrives stale. The timestamp also
    /// goes up by at least a second per attempt: with the same body and the same second, a retry
    /// would carry the very signature the gateway has recorded, and be refused as a replay.
    func post(_ webhook: CarrierWebhook, to url: String) async -> WebhookDelivery {
        let (type, id): (String, String)
        switch webhook {
        case .message(let message): (type, id) = ("message", message.id)
        case .status(let report): (type, id) = ("status", report.id)
        }
        var delivery = WebhookDelivery(type: type, id: id, url: url, status: nil, attempts: 0, error: nil)
        let body: [UInt8]
        do {
            body = Array(try CarrierAPI.makeEncoder().encode(webhook))
        } catch {
            delivery.error = "could not encode the webhook: \(error)"
            return delivery
        }

        var lastTimestamp = Int.min
        for attempt in 1...attempts {
            if attempt > 1 {
                let pause = initialBackoff * (1 << min(attempt - 2, 20))
                do {
                    try await Task.sleep(for: pause)
                } catch {
                    delivery.error = "cancelled"
                    return delivery
                }
            }
            delivery.attempts = attempt
            let timestamp = max(Int(Date().timeIntervalSince1970), lastTimestamp + 1)
            lastTimestamp = timestamp
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: WebhookSignature.timestampHeader, value: "\(timestamp)")
            request.headers.add(
                name: WebhookSignature.signatureHeader,
                value: WebhookSignature.sign(secret: secret, timestamp: timestamp, body: body))
            request.body = .bytes(ByteBuffer(bytes: body))
            do {
                let response = try await httpClient.execute(request, timeout: TimeAmount(timeout))
                // Drain the body so the connection can be reused; its content does not matter.
                _ = try await response.body.collect(upTo: 64 * 1024)
                let status = Int(response.status.code)
                delivery.status = status
                delivery.error = nil
                if (500..<600).contains(status) {
                    logger.notice("webhook answered with a server error", metadata: [
                        "webhook.type": "\(type)", "webhook.id": "\(id)", "webhook.url": "\(url)",
                        "webhook.status": "\(status)", "webhook.attempt": "\(attempt)",
                    ])
                    continue
                }
                logger.debug("webhook delivered", metadata: [
                    "webhook.type": "\(type)", "webhook.id": "\(id)", "webhook.status": "\(status)",
                ])
                return delivery
            } catch {
                delivery.error = "\(error)"
                logger.notice("webhook could not be delivered", metadata: [
                    "webhook.type": "\(type)", "webhook.id": "\(id)", "webhook.url": "\(url)",
                    "webhook.error": "\(error)", "webhook.attempt": "\(attempt)",
                ])
                if Task.isCancelled { return delivery }
            }
        }
        return delivery
    }
}
