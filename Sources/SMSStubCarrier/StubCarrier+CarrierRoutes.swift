import Foundation
import HTTPTypes
import Hummingbird
import SMSBridge

/// The carrier API proper: what the SMS bridge talks to (documented on `CarrierAPI`).
extension StubCarrier {
    func addCarrierRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/accounts/:account/messages") { request, context in
            await self.send(request, context: context)
        }
        router.get("/v1/accounts/:account/numbers/:number") { request, context in
            await self.checkNumber(request, context: context)
        }
    }

    private static let idempotencyKeyField = HTTPField.Name(CarrierAPI.idempotencyKeyHeader)!

    func send(_ request: Request, context: BasicRequestContext) async -> Response {
        let plan = await state.failurePlan()
        await delay(plan)
        // A simulated outage answers before anything else is looked at, like a proxy in front
        // of a carrier that is down.
        if await state.takeServerError() {
            return StubHTTP.error(.serviceUnavailable, code: "unavailable", message: "The carrier is temporarily unavailable (simulated).")
        }
        let accountID = StubHTTP.parameter("account", in: context) ?? ""
        let account: StubAccount
        switch await state.authenticate(accountID: accountID, authorization: request.headers[.authorization]) {
        case .unknownAccount:
            return StubHTTP.error(.notFound, code: "unknown_account", message: "There is no account '\(accountID)'.")
        case .badToken:
            return StubHTTP.error(.unauthorized, code: "unauthorized", message: "The token is missing or wrong.")
        case .authenticated(let found):
            account = found
        }

        let body: SendMessageRequest
        do {
            body = try await StubHTTP.decode(SendMessageRequest.self, from: request)
        } catch {
            return error.response
        }
        if let refusal = refusal(of: body, account: account, plan: plan) {
            return refusal
        }
        let segments = SMSSegmenter.segments(for: body.text).count
        let id = Self.newID(prefix: "msg_")
        let key = request.headers[Self.idempotencyKeyField]

        switch await state.recordSend(account: accountID, request: body, idempotencyKey: key, segments: segments, newID: id) {
        case .accepted(let receipt, let bounce):
            logger.info("accepted a message", metadata: [
                "sms.id": "\(receipt.id)", "sms.from": "\(body.from)", "sms.to": "\(body.to)",
                "sms.segments": "\(segments)",
            ])
            scheduleDeliveryReport(for: receipt.id, bounce: bounce, webhookURL: account.webhookURL)
            return StubHTTP.json(receipt, status: .accepted)
        case .replayed(let receipt):
            logger.info("answered a repeated idempotency key", metadata: ["sms.id": "\(receipt.id)"])
            return StubHTTP.json(receipt, status: .accepted)
        case .conflict:
            return StubHTTP.error(
                .unprocessableContent, code: "idempotency_conflict",
                message: "This idempotency key was already used for a different message.")
        }
    }

    /// The 422 answer for a send the carrier cannot take, or `nil` if it can.
    private func refusal(of body: SendMessageRequest, account: StubAccount, plan: FailurePlan) -> Response? {
        guard PhoneNumber(e164: body.from) != nil else {
            return StubHTTP.error(
                .unprocessableContent, code: "invalid_number",
                message: "The sender '\(body.from)' is not a phone number in E.164 form (+ then 8 to 15 digits).")
        }
        guard account.numbers.contains(body.from) else {
            return StubHTTP.error(
                .unprocessableContent, code: "invalid_sender",
                message: "The account does not own the number \(body.from).")
        }
        guard PhoneNumber(e164: body.to) != nil else {
            return StubHTTP.error(
                .unprocessableContent, code: "invalid_number",
                message: "The recipient '\(body.to)' is not a phone number in E.164 form (+ then 8 to 15 digits).")
        }
        guard !plan.unroutableNumbers.contains(body.to) else {
            return StubHTTP.error(
                .unprocessableContent, code: "unroutable",
                message: "The carrier cannot route messages to \(body.to).")
        }
        guard !body.text.isEmpty else {
            return StubHTTP.error(.unprocessableContent, code: "empty_text", message: "The message has no text.")
        }
        let segments = SMSSegmenter.segments(for: body.text)
        guard segments.count <= CarrierAPI.maxSegments else {
            return StubHTTP.error(
                .unprocessableContent, code: "text_too_long",
                message: "The message needs \(segments.count) SMS segments; at most \(CarrierAPI.maxSegments) are allowed.")
        }
        return nil
    }

    /// Posts the delivery report of an accepted message after a short pause.
    private func scheduleDeliveryReport(for id: String, bounce: Bool, webhookURL: String?) {
        let state = self.state
        let sender = self.webhookSender
        let pause = configuration.deliveryReportDelay
        schedule {
            do {
                try await Task.sleep(for: pause)
            } catch {
                return
            }
            let report = bounce
                ? DeliveryReport(id: id, status: .failed, error: CarrierErrorDetail(code: "unreachable", message: "Number unreachable"))
                : DeliveryReport(id: id, status: .delivered)
            await state.setStatus(of: id, to: report.status)
            guard let webhookURL else { return }
            let delivery = await sender.post(.status(report), to: Self.join(webhookURL, "status"))
            await state.recordWebhook(delivery)
        }
    }

    func checkNumber(_ request: Request, context: BasicRequestContext) async -> Response {
        await delay(await state.failurePlan())
        let accountID = StubHTTP.parameter("account", in: context) ?? ""
        let number = StubHTTP.parameter("number", in: context) ?? ""
        switch await state.authenticate(accountID: accountID, authorization: request.headers[.authorization]) {
        case .unknownAccount:
            return StubHTTP.error(.notFound, code: "unknown_account", message: "There is no account '\(accountID)'.")
        case .badToken:
            return StubHTTP.error(.unauthorized, code: "unauthorized", message: "The token is missing or wrong.")
        case .authenticated(let account):
            guard account.numbers.contains(number) else {
                return StubHTTP.error(.notFound, code: "not_found", message: "The account does not own \(number).")
            }
            return StubHTTP.json(NumberOwnership(number: number, account: accountID), status: .ok)
        }
    }

    private func delay(_ plan: FailurePlan) async {
        guard plan.delayMilliseconds > 0 else { return }
        try? await Task.sleep(for: .milliseconds(plan.delayMilliseconds))
    }

    /// A random id with `prefix`, like the carrier's `msg_3f9a0c2d4e5b6a71`.
    static func newID(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<8).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return prefix + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// `base` and one more path segment, with exactly one `/` between them.
    static func join(_ base: String, _ segment: String) -> String {
        var base = base
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/" + segment
    }
}
