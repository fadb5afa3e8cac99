import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SMSBridge
import Synchronization

/// One request the test's webhook receiver got, with the status it answered.
struct ReceivedWebhook: Sendable {
    /// `inbound` or `status`.
    var kind: String
    var timestamp: String?
    var signature: String?
    var body: [UInt8]
    var answeredStatus: Int

    var webhook: CarrierWebhook? {
        try? JSONDecoder().decode(CarrierWebhook.self, from: Data(body))
    }
}

/// A gateway stand-in: a Hummingbird server taking `POST /hooks/inbound` and `/hooks/status`,
/// recording each request raw and answering 204, or the statuses scripted with ``answerNext(_:)``.
final class WebhookReceiver: Sendable {
    let inbox = WebhookInbox()
    private let scripted = Mutex<[Int]>([])

    /// The next requests are answered with these statuses, in order, then 204 again.
    func answerNext(_ statuses: [Int]) {
        scripted.withLock { $0 = statuses }
    }

    private func nextStatus() -> Int {
        scripted.withLock { $0.isEmpty ? 204 : $0.removeFirst() }
    }

    func makeApplication(logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        let timestampField = HTTPField.Name(WebhookSignature.timestampHeader)!
        let signatureField = HTTPField.Name(WebhookSignature.signatureHeader)!
        router.post("/hooks/:kind") { request, context -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let status = self.nextStatus()
            await self.inbox.add(ReceivedWebhook(
                kind: context.parameters.get("kind") ?? "",
                timestamp: request.headers[timestampField],
                signature: request.headers[signatureField],
                body: Array(body.readableBytesView),
                answeredStatus: status))
            return Response(status: .init(code: status))
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }
}
