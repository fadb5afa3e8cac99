import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SMSBridge
import SMSStubCarrier
import ServiceLifecycle
import TestSupport

/// A running stub carrier on a free loopback port, a webhook receiver standing in for the
/// gateway, and an HTTP client for both; all torn down when the test body returns.
struct StubHarness: Sendable {
    static let secret = "whsec_test"
    static let account = "acct_1"
    static let token = "tok_1"
    static let ourNumber = PhoneNumber(e164: "+15550001111")!
    static let friend = PhoneNumber(e164: "+15552223333")!

    let http: HTTPClient
    let stubURL: String
    let receiver: WebhookReceiver
    let webhookBase: String
    var inbox: WebhookInbox { receiver.inbox }

    /// A carrier client with test-sized backoff.
    func client(maxAttempts: Int = 4, requestTimeout: Duration = .seconds(5)) -> CarrierClient {
        CarrierClient(
            httpClient: http,
            configuration: .init(
                baseURL: stubURL, maxAttempts: maxAttempts, requestTimeout: requestTimeout,
                initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(50)),
            logger: StubHarness.logger)
    }

    /// Sends `text` from our number to the friend with the test account.
    func send(_ text: String, to: PhoneNumber = StubHarness.friend, key: String, client: CarrierClient? = nil) async throws(CarrierError) -> SendReceipt {
        try await (client ?? self.client()).send(
            from: Self.ourNumber, to: to, text: text, accountID: Self.account, token: Self.token, idempotencyKey: key)
    }

    /// A raw request to the stub; returns the status and body.
    func request(
        _ method: HTTPMethod, _ path: String, json: (any Encodable)? = nil, headers: [(String, String)] = []
    ) async throws -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: stubURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(json)))
        }
        let response = try await http.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), Data(body.readableBytesView))
    }

    /// A control call that must answer 2xx, decoded as `T`.
    func control<T: Decodable>(
        _ method: HTTPMethod, _ path: String, json: (any Encodable)? = nil, as type: T.Type
    ) async throws -> T {
        let (status, body) = try await request(method, path, json: json)
        guard (200..<300).contains(status) else {
            throw HarnessError("\(method) \(path) answered \(status): \(String(decoding: body, as: UTF8.self))")
        }
        return try JSONDecoder().decode(T.self, from: body)
    }

    func sent(to: String? = nil) async throws -> [SentMessage] {
        let query = to.map { "?to=" + $0.replacingOccurrences(of: "+", with: "%2B") } ?? ""
        return try await control(.GET, "/control/sent" + query, as: SentMessageList.self).messages
    }

    func setFailures(_ plan: FailurePlan) async throws {
        _ = try await control(.POST, "/control/failures", json: plan, as: FailurePlan.self)
    }

    static let logger: Logger = {
        var logger = Logger(label: "sms-stub-test")
        logger.logLevel = ProcessInfo.processInfo.environment["SMS_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }()

    /// Runs `body` against a fresh stub and receiver.
    ///
    /// Both servers run in service groups and are stopped by graceful shutdown, never by
    /// cancellation: cancelling a Hummingbird server while a connection is being accepted
    /// trips a precondition in NIO ("Deinited NIOAsyncWriter without calling finish()").
    static func run(_ body: (StubHarness) async throws -> Void) async throws {
        try await withHTTPClient { http in try await run(http: http, body) }
    }

    private static func run(http: HTTPClient, _ body: (StubHarness) async throws -> Void) async throws {
        let receiver = WebhookReceiver()
        let (receiverPorts, receiverPortSink) = AsyncStream.makeStream(of: Int.self)
        let receiverGroup = ServiceGroup(configuration: .init(
            services: [receiver.makeApplication(logger: logger) { receiverPortSink.yield($0) }], logger: logger))
        let receiverTask = Task { try await receiverGroup.run() }
        var stub: (group: ServiceGroup, task: Task<Void, any Error>)?

        func stop() async throws {
            try await withTimeout(15, "the stub and the receiver to shut down") { [stub] in
                if let stub {
                    await stub.group.triggerGracefulShutdown()
                    try await stub.task.value
                }
                await receiverGroup.triggerGracefulShutdown()
                try await receiverTask.value
            }
        }

        do {
            let receiverPort = try await firstValue(of: receiverPorts, "the webhook receiver to listen")
            let webhookBase = "http://127.0.0.1:\(receiverPort)/hooks"
            let (stubPorts, stubPortSink) = AsyncStream.makeStream(of: Int.self)
            let carrier = StubCarrier(
                configuration: StubCarrierConfiguration(
                    port: 0,
                    webhookSecret: secret,
                    accounts: [account: StubAccount(token: token, numbers: [ourNumber.e164], webhookURL: webhookBase)],
                    deliveryReportDelay: .milliseconds(1),
                    webhookInitialBackoff: .milliseconds(10)),
                httpClient: http,
                logger: logger,
                onServerRunning: { stubPortSink.yield($0) })
            let stubGroup = ServiceGroup(configuration: .init(services: [carrier], logger: logger))
            stub = (stubGroup, Task { try await stubGroup.run() })
            let stubPort = try await firstValue(of: stubPorts, "the stub carrier to listen")

            try await body(StubHarness(
                http: http, stubURL: "http://127.0.0.1:\(stubPort)", receiver: receiver, webhookBase: webhookBase))
        } catch {
            try? await stop()
            throw error
        }
        try await stop()
    }
}

/// Runs `body` with an HTTP client of its own that is shut down however `body` ends
/// (AsyncHTTPClient traps in debug builds when a client is released without a shutdown).
func withHTTPClient<T: Sendable>(_ body: (HTTPClient) async throws -> T) async throws -> T {
    let http = HTTPClient(eventLoopGroupProvider: .singleton)
    let result: T
    do {
        result = try await body(http)
    } catch {
        try? await http.shutdown()
        throw error
    }
    try await http.shutdown()
    return result
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
