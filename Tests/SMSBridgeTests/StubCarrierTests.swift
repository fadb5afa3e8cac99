import AsyncHTTPClient
import Foundation
import ServiceLifecycle
import XCTest
@testable import SMSBridge
import SMSStubCarrier
import TestSupport

/// The real `CarrierClient` against the stub carrier over loopback HTTP, with a Hummingbird
/// server as the gateway's webhook endpoint. Every wait is bounded (see `withTimeout`).
final class StubCarrierTests: XCTestCase {
    private static let verifier = WebhookVerifier(secret: StubHarness.secret)

    private static func assertSigned(_ received: ReceivedWebhook, file: StaticString = #filePath, line: UInt = #line) {
        let verdict = Self.verifier.verify(
            timestampHeader: received.timestamp, signatureHeader: received.signature, body: received.body,
            now: Int(Date().timeIntervalSince1970))
        guard case .valid = verdict else {
            return XCTFail("webhook signature not valid: \(verdict)", file: file, line: line)
        }
    }

    private static func expectError(
        _ expected: CarrierError, file: StaticString = #filePath, line: UInt = #line,
        _ call: () async throws(CarrierError) -> some Any
    ) async {
        do {
            let value = try await call()
            XCTFail("expected \(expected), got \(value)", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, file: file, line: line)
        }
    }

    // MARK: Sending

    func testSendIsRecordedAndReportedDelivered() async throws {
        try await StubHarness.run { harness in
            let receipt = try await harness.send("Hello from XMPP", key: "key-1")
            XCTAssertTrue(receipt.id.hasPrefix("msg_"), receipt.id)
            XCTAssertEqual(receipt.segments, 1)
            XCTAssertEqual(receipt.status, "queued")

            let sent = try await harness.sent()
            XCTAssertEqual(sent.count, 1)
            XCTAssertEqual(sent.first?.id, receipt.id)
            XCTAssertEqual(sent.first?.from, "+15550001111")
            XCTAssertEqual(sent.first?.to, "+15552223333")
            XCTAssertEqual(sent.first?.text, "Hello from XMPP")
            XCTAssertEqual(sent.first?.idempotencyKey, "key-1")
            XCTAssertEqual(sent.first?.account, StubHarness.account)

            let report = try await harness.inbox.first { $0.kind == "status" }
            Self.assertSigned(report)
            XCTAssertEqual(report.webhook, .status(DeliveryReport(id: receipt.id, status: .delivered)))
            let status = try await harness.sent().first?.status
            XCTAssertEqual(status, "delivered")
        }
    }

    func testSegmentsAreCountedLikeTheSegmenter() async throws {
        try await StubHarness.run { harness in
            let text = String(repeating: "Ж", count: 100)
            let receipt = try await harness.send(text, key: "long")
            XCTAssertEqual(receipt.segments, 2)
            XCTAssertEqual(receipt.segments, SMSSegmenter.segments(for: text).count)
        }
    }

    func testSentListFiltersByRecipient() async throws {
        try await StubHarness.run { harness in
            let other = PhoneNumber(e164: "+447911123456")!
            _ = try await harness.send("one", key: "a")
            _ = try await harness.send("two", to: other, key: "b")
            _ = try await harness.send("three", key: "c")
            let texts = try await harness.sent().map(\.text)
            XCTAssertEqual(texts, ["one", "two", "three"])
            let toUK = try await harness.sent(to: "+447911123456").map(\.text)
            XCTAssertEqual(toUK, ["two"])
            let toFriend = try await harness.sent(to: "+15552223333").map(\.text)
            XCTAssertEqual(toFriend, ["one", "three"])
        }
    }

    func testRepeatedIdempotencyKeySendsOnce() async throws {
        try await StubHarness.run { harness in
            let first = try await harness.send("Only once", key: "same-key")
            let second = try await harness.send("Only once", key: "same-key")
            XCTAssertEqual(first, second)
            let count = try await harness.sent().count
            XCTAssertEqual(count, 1)

            _ = try await harness.send("Only once", key: "another-key")
            let countAfterNewKey = try await harness.sent().count
            XCTAssertEqual(countAfterNewKey, 2, "a new key is a new message")
        }
    }

    func testSameKeyForAnotherMessageIsRefused() async throws {
        try await StubHarness.run { harness in
            _ = try await harness.send("First", key: "k")
            await Self.expectError(.refused(
                code: "idempotency_conflict", message: "This idempotency key was already used for a different message.")
            ) { () async throws(CarrierError) in try await harness.send("Second", key: "k") }
            let count = try await harness.sent().count
            XCTAssertEqual(count, 1)
        }
    }

    func testServerErrorBurstIsRetriedWithTheSameKey() async throws {
        try await StubHarness.run { harness in
            try await harness.setFailures(FailurePlan(serverErrors: 3))
            let receipt = try await harness.send("Through the outage", key: "burst", client: harness.client(maxAttempts: 4))
            let sent = try await harness.sent()
            XCTAssertEqual(sent.map(\.id), [receipt.id])
            XCTAssertEqual(sent.first?.idempotencyKey, "burst")
            let plan = try await harness.control(.GET, "/control/failures", as: FailurePlan.self)
            XCTAssertEqual(plan.serverErrors, 0, "all three 503s were consumed by retries")
        }
    }

    func testLongerOutageMakesTheCarrierUnavailable() async throws {
        try await StubHarness.run { harness in
            try await harness.setFailures(FailurePlan(serverErrors: 5))
            do {
                _ = try await harness.send("Lost", key: "outage", client: harness.client(maxAttempts: 3))
                XCTFail("sent through an outage")
            } catch let error as CarrierError {
                guard case .unavailable(let reason) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(reason.contains("503"), reason)
                XCTAssertTrue(reason.contains("3 attempts"), reason)
            }
            let count = try await harness.sent().count
            XCTAssertEqual(count, 0)
            let plan = try await harness.control(.GET, "/control/failures", as: FailurePlan.self)
            XCTAssertEqual(plan.serverErrors, 2)
        }
    }

    func testTimeoutsAreRetriedAndTheKeyKeepsItOneMessage() async throws {
        try await StubHarness.run { harness in
            try await harness.setFailures(FailurePlan(delayMilliseconds: 400))
            let impatient = harness.client(maxAttempts: 2, requestTimeout: .milliseconds(100))
            do {
                _ = try await harness.send("Slow", key: "slow", client: impatient)
                XCTFail("a 400 ms answer beat a 100 ms timeout")
            } catch let error as CarrierError {
                guard case .unavailable = error else { return XCTFail("\(error)") }
            }
            // The carrier may still take the timed-out attempts; the key makes them one message.
            try await harness.setFailures(FailurePlan())
            let receipt = try await harness.send("Slow", key: "slow")
            let sent = try await harness.sent()
            XCTAssertEqual(sent.map(\.id), [receipt.id])
        }
    }

    func testNothingListeningIsUnavailable() async throws {
        let outcome = try await withHTTPClient { http in
            // AsyncHTTPClient keeps retrying a refused connection until the request's deadline, so
            // each attempt against a closed port lasts the whole request timeout: keep it short.
            let client = CarrierClient(
                httpClient: http,
                configuration: .init(
                    baseURL: "http://127.0.0.1:1", maxAttempts: 2, requestTimeout: .milliseconds(300),
                    initialBackoff: .milliseconds(1)),
                logger: StubHarness.logger)
            do {
                return Result<SendReceipt, CarrierError>.success(try await client.send(
                    from: StubHarness.ourNumber, to: StubHarness.friend, text: "x",
                    accountID: "a", token: "t", idempotencyKey: "k"))
            } catch let error as CarrierError {
                return .failure(error)
            }
        }
        guard case .failure(.unavailable(let reason)) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(reason.contains("2 attempts"), reason)
        XCTAssertTrue(reason.contains("refused"), reason)
    }

    func testUnusableRequestsFailAtOnceWithoutQuotingTheToken() async throws {
        let outcomes = try await withHTTPClient { http in
            func attempt(baseURL: String, token: String) async -> CarrierError? {
                let client = CarrierClient(
                    httpClient: http,
                    configuration: .init(baseURL: baseURL, maxAttempts: 4, initialBackoff: .seconds(30)),
                    logger: StubHarness.logger)
                do {
                    _ = try await client.send(
                        from: StubHarness.ourNumber, to: StubHarness.friend, text: "x",
                        accountID: "a", token: token, idempotencyKey: "k")
                    return nil
                } catch {
                    return error
                }
            }
            // A 30 s backoff would time the test out if any of these were retried.
            return [
                await attempt(baseURL: "ftp://127.0.0.1:1", token: "t"),
                await attempt(baseURL: "http://", token: "t"),
                await attempt(baseURL: "http://127.0.0.1:1", token: "secret\r\nX-Injected: 1"),
                await attempt(baseURL: "http://127.0.0.1:1", token: "secret token"),
            ]
        }
        XCTAssertEqual(outcomes.count, 4)
        for outcome in outcomes.prefix(2) {
            guard case .unavailable(let reason) = outcome else { return XCTFail("\(String(describing: outcome))") }
            XCTAssertTrue(reason.contains("base URL"), reason)
        }
        XCTAssertEqual(outcomes[2], .unauthorized)
        XCTAssertEqual(outcomes[3], .unauthorized)
    }

    func testAnyIdempotencyKeyIsSentAndStaysTheSame() async throws {
        try await StubHarness.run { harness in
            let key = "alice@example.org/ид сообщения\r\n%41"
            let first = try await harness.send("unicode key", key: key)
            let second = try await harness.send("unicode key", key: key)
            XCTAssertEqual(first, second)
            let sent = try await harness.sent()
            XCTAssertEqual(sent.count, 1)
            XCTAssertEqual(sent.first?.idempotencyKey, CarrierClient.headerSafe(key))
            XCTAssertEqual(CarrierClient.headerSafe("plain-key_1"), "plain-key_1")
            XCTAssertEqual(CarrierClient.headerSafe("a b%"), "a%20b%25")
        }
    }

    func testGracefulShutdownStopsTheStub() async throws {
        try await withHTTPClient { http in
            let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
            let stub = StubCarrier(
                configuration: StubCarrierConfiguration(port: 0, webhookSecret: "s"),
                httpClient: http, logger: StubHarness.logger, onServerRunning: { portSink.yield($0) })
            let group = ServiceGroup(configuration: .init(services: [stub], logger: StubHarness.logger))
            try await withTimeout(10, "the stub to shut down") {
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await group.run() }
                    let port = try await firstValue(of: ports, "the stub to listen")
                    let response = try await http.execute(
                        HTTPClientRequest(url: "http://127.0.0.1:\(port)/control/sent"), timeout: .seconds(5))
                    XCTAssertEqual(response.status.code, 200)
                    _ = try await response.body.collect(upTo: 1 << 16)
                    await group.triggerGracefulShutdown()
                    try await tasks.waitForAll()
                }
            }
        }
    }

    func testInvalidConfigurationIsReportedBeforeListening() async throws {
        let error = try await withHTTPClient { http in
            let stub = StubCarrier(
                configuration: StubCarrierConfiguration(
                    port: 0, webhookSecret: "s", accounts: ["a": StubAccount(token: "t", numbers: ["555"], webhookURL: nil)]),
                httpClient: http, logger: StubHarness.logger)
            do {
                try await withTimeout(10, "the stub to refuse its configuration") { try await stub.run() }
                return nil as StubCarrierError?
            } catch let error as StubCarrierError {
                return error
            }
        }
        XCTAssertEqual(error?.description, "stub carrier account 'a': '555' is not an E.164 number (+ then 8 to 15 digits)")
    }

    // MARK: Refusals

    func testBadTokenIsUnauthorized() async throws {
        try await StubHarness.run { harness in
            await Self.expectError(.unauthorized) { () async throws(CarrierError) in
                try await harness.client().send(
                    from: StubHarness.ourNumber, to: StubHarness.friend, text: "x",
                    accountID: StubHarness.account, token: "wrong", idempotencyKey: "k")
            }
        }
    }

    func testUnknownAccountIsRefused() async throws {
        try await StubHarness.run { harness in
            await Self.expectError(.refused(code: "unknown_account", message: "There is no account 'nobody'.")) {
                () async throws(CarrierError) in
                try await harness.client().send(
                    from: StubHarness.ourNumber, to: StubHarness.friend, text: "x",
                    accountID: "nobody", token: StubHarness.token, idempotencyKey: "k")
            }
        }
    }

    func testTooLongTextIsRefusedWithTheCarriersReason() async throws {
        try await StubHarness.run { harness in
            let text = String(repeating: "a", count: 1531)
            await Self.expectError(.refused(
                code: "text_too_long", message: "The message needs 11 SMS segments; at most 10 are allowed.")
            ) { () async throws(CarrierError) in try await harness.send(text, key: "long") }
            let justFits = String(repeating: "a", count: 1530)
            let segments = try await harness.send(justFits, key: "fits").segments
            XCTAssertEqual(segments, 10)
        }
    }

    func testNonE164NumbersAreRefusedWithInvalidNumber() async throws {
        try await StubHarness.run { harness in
            let auth = [("Authorization", "Bearer \(StubHarness.token)"), ("Idempotency-Key", "raw")]
            for to in ["5552223333", "+1 555 222 3333", "+0123456789", "+1234"] {
                let (status, body) = try await harness.request(
                    .POST, "/v1/accounts/\(StubHarness.account)/messages",
                    json: SendMessageRequest(from: "+15550001111", to: to, text: "x"), headers: auth)
                XCTAssertEqual(status, 422, to)
                let error = try JSONDecoder().decode(CarrierErrorBody.self, from: body).error
                XCTAssertEqual(error.code, "invalid_number", to)
                XCTAssertTrue(error.message.contains(to), error.message)
            }
            let count = try await harness.sent().count
            XCTAssertEqual(count, 0)
        }
    }

    func testMalformedRequestsAre400() async throws {
        try await StubHarness.run { harness in
            let auth = [("Authorization", "Bearer \(StubHarness.token)")]
            struct Partial: Encodable { var from = "+15550001111"; var text = "no recipient" }
            let (status, body) = try await harness.request(
                .POST, "/v1/accounts/\(StubHarness.account)/messages", json: Partial(), headers: auth)
            XCTAssertEqual(status, 400)
            let error = try JSONDecoder().decode(CarrierErrorBody.self, from: body).error
            XCTAssertEqual(error.code, "invalid_request")
            XCTAssertTrue(error.message.contains("'to'"), error.message)
        }
    }

    func testSenderMustBelongToTheAccount() async throws {
        try await StubHarness.run { harness in
            await Self.expectError(.refused(code: "invalid_sender", message: "The account does not own the number +15559998888.")) {
                () async throws(CarrierError) in
                try await harness.client().send(
                    from: PhoneNumber(e164: "+15559998888")!, to: StubHarness.friend, text: "x",
                    accountID: StubHarness.account, token: StubHarness.token, idempotencyKey: "k")
            }
        }
    }

    func testUnroutableNumbersAreRefused() async throws {
        try await StubHarness.run { harness in
            try await harness.setFailures(FailurePlan(unroutableNumbers: ["+15552223333"]))
            await Self.expectError(.refused(code: "unroutable", message: "The carrier cannot route messages to +15552223333.")) {
                () async throws(CarrierError) in try await harness.send("x", key: "k")
            }
        }
    }

    // MARK: Delivery reports and inbound webhooks

    func testBounceNumberGetsASignedFailedReport() async throws {
        try await StubHarness.run { harness in
            try await harness.setFailures(FailurePlan(bounceNumbers: ["+15552223333"]))
            let receipt = try await harness.send("Into the void", key: "bounce")
            let report = try await harness.inbox.first { $0.kind == "status" }
            Self.assertSigned(report)
            XCTAssertEqual(report.webhook, .status(DeliveryReport(
                id: receipt.id, status: .failed,
                error: CarrierErrorDetail(code: "unreachable", message: "Number unreachable"))))
            let status = try await harness.sent().first?.status
            XCTAssertEqual(status, "failed")

            let log = try await harness.control(.GET, "/control/webhooks", as: WebhookDeliveryList.self).webhooks
            XCTAssertEqual(log.map(\.id), [receipt.id])
            XCTAssertEqual(log.first?.status, 204)
        }
    }

    func testInboundInjectionDeliversASignedWebhook() async throws {
        try await StubHarness.run { harness in
            let result = try await harness.control(
                .POST, "/control/inbound",
                json: InboundInjection(from: "+15552223333", to: "+15550001111", text: "Hi there 👋"),
                as: InboundInjectionResult.self)
            XCTAssertEqual(result.webhookStatus, 204)
            XCTAssertEqual(result.attempts, 1)
            XCTAssertTrue(result.id.hasPrefix("in_"), result.id)

            let received = try await harness.inbox.first { $0.kind == "inbound" }
            Self.assertSigned(received)
            guard case .message(let message) = received.webhook else { return XCTFail("\(String(describing: received.webhook))") }
            XCTAssertEqual(message.id, result.id)
            XCTAssertEqual(message.from, "+15552223333")
            XCTAssertEqual(message.to, "+15550001111")
            XCTAssertEqual(message.text, "Hi there 👋")
            let receivedAt = try XCTUnwrap(message.receivedDate)
            XCTAssertLessThan(abs(receivedAt.timeIntervalSinceNow), 60)

            // What a gateway does with the signature: the second sighting is a replay.
            let cache = ReplayCache()
            let now = Int(Date().timeIntervalSince1970)
            guard case .valid(let signature) = Self.verifier.verify(
                timestampHeader: received.timestamp, signatureHeader: received.signature, body: received.body, now: now)
            else { return XCTFail("not valid") }
            XCTAssertTrue(cache.firstSighting(signature, at: now))
            XCTAssertFalse(cache.firstSighting(signature, at: now))
        }
    }

    func testInboundIsRetriedWhileTheGatewayFails() async throws {
        try await StubHarness.run { harness in
            harness.receiver.answerNext([503, 500])
            let result = try await harness.control(
                .POST, "/control/inbound", json: InboundInjection(from: "+15552223333", to: "+15550001111", text: "again"),
                as: InboundInjectionResult.self)
            XCTAssertEqual(result.webhookStatus, 204)
            XCTAssertEqual(result.attempts, 3)
            let all = await harness.inbox.all
            XCTAssertEqual(all.map(\.answeredStatus), [503, 500, 204])
            XCTAssertEqual(Set(all.compactMap { $0.webhook.flatMap { if case .message(let m) = $0 { m.id } else { nil } } }), [result.id],
                           "every retry carries the same id")
            for attempt in all { Self.assertSigned(attempt) }
            // Retries within one second still carry new timestamps, so a gateway that recorded the
            // first signature before failing does not refuse the retry as a replay.
            let cache = ReplayCache()
            XCTAssertEqual(all.map { cache.firstSighting($0.signature ?? "", at: 0) }, [true, true, true])
        }
    }

    func testInboundThatTheGatewayRefusesIsReportedAs502() async throws {
        try await StubHarness.run { harness in
            harness.receiver.answerNext([503, 503, 503, 503])
            let (status, body) = try await harness.request(
                .POST, "/control/inbound", json: InboundInjection(from: "+15552223333", to: "+15550001111", text: "lost"))
            XCTAssertEqual(status, 502)
            let result = try JSONDecoder().decode(InboundInjectionResult.self, from: body)
            XCTAssertEqual(result.webhookStatus, 503)
            XCTAssertEqual(result.attempts, 4)
        }
    }

    func testInboundToAnUnknownNumberIs404() async throws {
        try await StubHarness.run { harness in
            let (status, _) = try await harness.request(
                .POST, "/control/inbound", json: InboundInjection(from: "+15552223333", to: "+15557776666", text: "?"))
            XCTAssertEqual(status, 404)
            let (badSender, _) = try await harness.request(
                .POST, "/control/inbound", json: InboundInjection(from: "555", to: "+15550001111", text: "?"))
            XCTAssertEqual(badSender, 422)
        }
    }

    // MARK: Number checks and accounts

    func testCheckNumber() async throws {
        try await StubHarness.run { harness in
            let client = harness.client()
            let owned = try await client.checkNumber(StubHarness.ourNumber, accountID: StubHarness.account, token: StubHarness.token)
            XCTAssertTrue(owned)
            let notOwned = try await client.checkNumber(StubHarness.friend, accountID: StubHarness.account, token: StubHarness.token)
            XCTAssertFalse(notOwned)
            let unknownAccount = try await client.checkNumber(StubHarness.ourNumber, accountID: "nobody", token: StubHarness.token)
            XCTAssertFalse(unknownAccount)
            await Self.expectError(.unauthorized) { () async throws(CarrierError) in
                try await client.checkNumber(StubHarness.ourNumber, accountID: StubHarness.account, token: "wrong")
            }
        }
    }

    func testAccountsCanBeAddedAtRunTime() async throws {
        try await StubHarness.run { harness in
            let registration = StubAccountRegistration(
                id: "acct_2", token: "tok_2", numbers: ["+447911123456"], webhookURL: harness.webhookBase)
            let summary = try await harness.control(.POST, "/control/accounts", json: registration, as: StubAccountSummary.self)
            XCTAssertEqual(summary.numbers, ["+447911123456"])

            let client = harness.client()
            let uk = PhoneNumber(e164: "+447911123456")!
            let owned = try await client.checkNumber(uk, accountID: "acct_2", token: "tok_2")
            XCTAssertTrue(owned)
            let receipt = try await client.send(
                from: uk, to: StubHarness.friend, text: "from the UK", accountID: "acct_2", token: "tok_2", idempotencyKey: "uk")
            let account = try await harness.sent().first { $0.id == receipt.id }?.account
            XCTAssertEqual(account, "acct_2")

            let taken = StubAccountRegistration(id: "acct_3", token: "t", numbers: ["+15550001111"], webhookURL: nil)
            let takenStatus = try await harness.request(.POST, "/control/accounts", json: taken).status
            XCTAssertEqual(takenStatus, 409)
            let invalid = StubAccountRegistration(id: "acct_3", token: "t", numbers: ["555"], webhookURL: nil)
            let invalidStatus = try await harness.request(.POST, "/control/accounts", json: invalid).status
            XCTAssertEqual(invalidStatus, 422)
        }
    }

    func testResetForgetsMessagesAndKeys() async throws {
        try await StubHarness.run { harness in
            let first = try await harness.send("before", key: "k")
            _ = try await harness.inbox.first { $0.kind == "status" }
            let resetStatus = try await harness.request(.POST, "/control/reset").status
            XCTAssertEqual(resetStatus, 204)
            let count = try await harness.sent().count
            XCTAssertEqual(count, 0)
            let second = try await harness.send("before", key: "k")
            XCTAssertNotEqual(first.id, second.id, "the key was forgotten")
        }
    }
}
