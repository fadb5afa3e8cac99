import Foundation
import Hummingbird
import SMSBridge

/// The control API (documented on ``StubControlAPI``).
extension StubCarrier {
    func addControlRoutes(to router: Router<BasicRequestContext>) {
        router.post("/control/accounts") { request, _ in
            await self.putAccount(request)
        }
        router.get("/control/accounts") { _, _ in
            struct Accounts: Encodable { var accounts: [StubAccountSummary] }
            return StubHTTP.json(Accounts(accounts: await self.state.accountSummaries()), status: .ok)
        }
        router.post("/control/inbound") { request, _ in
            await self.injectInbound(request)
        }
        router.get("/control/sent") { request, _ in
            let to = request.uri.queryParameters.get("to")
            return StubHTTP.json(SentMessageList(messages: await self.state.sentMessages(to: to)), status: .ok)
        }
        router.post("/control/failures") { request, _ in
            await self.setFailurePlan(request)
        }
        router.get("/control/failures") { _, _ in
            StubHTTP.json(await self.state.currentFailurePlan(), status: .ok)
        }
        router.get("/control/webhooks") { _, _ in
            StubHTTP.json(WebhookDeliveryList(webhooks: await self.state.webhookLog()), status: .ok)
        }
        router.post("/control/reset") { _, _ in
            await self.state.reset()
            return Response(status: .noContent)
        }
    }

    private func setFailurePlan(_ request: Request) async -> Response {
        let plan: FailurePlan
        do {
            plan = try await StubHTTP.decode(FailurePlan.self, from: request)
        } catch {
            return error.response
        }
        await state.setFailurePlan(plan)
        logger.info("failure plan set", metadata: [
            "sms_stub.bounce": "\(plan.bounceNumbers)", "sms_stub.unroutable": "\(plan.unroutableNumbers)",
            "sms_stub.server_errors": "\(plan.serverErrors)", "sms_stub.delay_ms": "\(plan.delayMilliseconds)",
        ])
        return StubHTTP.json(await state.currentFailurePlan(), status: .ok)
    }

    private func putAccount(_ request: Request) async -> Response {
        let registration: StubAccountRegistration
        do {
            registration = try await StubHTTP.decode(StubAccountRegistration.self, from: request)
        } catch {
            return error.response
        }
        guard !registration.id.isEmpty, !registration.token.isEmpty else {
            return StubHTTP.error(.badRequest, code: "invalid_request", message: "An account needs a non-empty id and token.")
        }
        let account = StubAccount(token: registration.token, numbers: registration.numbers, webhookURL: registration.webhookURL)
        do {
            try await state.putAccount(id: registration.id, account)
        } catch {
            switch error {
            case .invalidNumber:
                return StubHTTP.error(.unprocessableContent, code: "invalid_number", message: error.description)
            case .numberTaken:
                return StubHTTP.error(.conflict, code: "number_taken", message: error.description)
            }
        }
        logger.info("account set", metadata: [
            "sms_stub.account": "\(registration.id)", "sms_stub.numbers": "\(registration.numbers)",
            "sms_stub.webhook_url": "\(registration.webhookURL ?? "none")",
        ])
        return StubHTTP.json(
            StubAccountSummary(id: registration.id, numbers: registration.numbers, webhookURL: registration.webhookURL),
            status: .ok)
    }

    /// Signs and posts an inbound SMS to the owning account's webhook, then answers with what
    /// the gateway said (waiting through the retries).
    private func injectInbound(_ request: Request) async -> Response {
        let injection: InboundInjection
        do {
            injection = try await StubHTTP.decode(InboundInjection.self, from: request)
        } catch {
            return error.response
        }
        guard PhoneNumber(e164: injection.from) != nil else {
            return StubHTTP.error(
                .unprocessableContent, code: "invalid_number",
                message: "The sender '\(injection.from)' is not a phone number in E.164 form.")
        }
        guard let owner = await state.owner(of: injection.to) else {
            return StubHTTP.error(.notFound, code: "unknown_number", message: "No account owns \(injection.to).")
        }
        if let accountID = injection.account, accountID != owner.id {
            return StubHTTP.error(
                .notFound, code: "unknown_number", message: "Account '\(accountID)' does not own \(injection.to).")
        }
        guard let webhookURL = owner.account.webhookURL else {
            return StubHTTP.error(
                .unprocessableContent, code: "no_webhook", message: "Account '\(owner.id)' has no webhook URL.")
        }

        let message = InboundSMS(
            id: Self.newID(prefix: "in_"), from: injection.from, to: injection.to, text: injection.text,
            receivedAt: Date().formatted(.iso8601))
        let delivery = await webhookSender.post(.message(message), to: Self.join(webhookURL, "inbound"))
        await state.recordWebhook(delivery)
        let result = InboundInjectionResult(
            id: message.id, webhookStatus: delivery.status, attempts: delivery.attempts, error: delivery.error)
        let delivered = delivery.status.map { (200..<300).contains($0) } ?? false
        logger.info("inbound message posted", metadata: [
            "sms.id": "\(message.id)", "sms.to": "\(message.to)",
            "webhook.status": "\(delivery.status.map(String.init) ?? "none")",
        ])
        return StubHTTP.json(result, status: delivered ? .ok : .badGateway)
    }
}
