import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Talks to the carrier's HTTP API (see ``CarrierAPI``) over AsyncHTTPClient.
///
/// Transient failures (5xx answers, connection errors, timeouts) are retried with exponential
/// backoff and jitter, always with the same idempotency key, so a send the carrier accepted but
/// whose answer was lost is not sent twice. A 4xx answer is final and is never retried.
///
/// The client does not own the `HTTPClient`: whoever creates that one shuts it down.
public struct CarrierClient: Sendable {
    /// Where the carrier is and how hard to try.
    public struct Configuration: Sendable, Hashable {
        /// The API's base URL, e.g. `https://api.carrier.example` or `http://127.0.0.1:8089`.
        public var baseURL: String
        /// Attempts per call, the first included (at least 1).
        public var maxAttempts: Int
        /// The time one attempt may take, answer body included.
        public var requestTimeout: Duration
        /// The pause before the second attempt; it doubles for each further one.
        public var initialBackoff: Duration
        /// The longest pause between attempts.
        public var maxBackoff: Duration

        public init(
            baseURL: String,
            maxAttempts: Int = 4,
            requestTimeout: Duration = .seconds(10),
            initialBackoff: Duration = .milliseconds(250),
            maxBackoff: Duration = .seconds(8)
        ) {
            self.baseURL = baseURL
            self.maxAttempts = max(1, maxAttempts)
            self.requestTimeout = requestTimeout
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
        }
    }

    public let configuration: Configuration
    private let httpClient: HTTPClient
    private let logger: Logger

    /// The largest answer body read; the carrier's answers are a few hundred bytes.
    private static let maxResponseBytes = 64 * 1024

    public init(httpClient: HTTPClient, configuration: Configuration, logger: Logger = Logger(label: "causeway.sms.carrier")) {
        self.httpClient = httpClient
        self.configuration = configuration
        self.logger = logger
    }

    /// Sends one SMS.
    ///
    /// - Parameters:
    ///   - from: one of the account's numbers.
    ///   - to: the recipient.
    ///   - text: the message; the carrier refuses more than ``CarrierAPI/maxSegments`` segments
    ///     (check with ``SMSSegmenter`` first to tell the user early).
    ///   - accountID: the carrier account.
    ///   - token: the account's API token.
    ///   - idempotencyKey: a key unique to this message (e.g. derived from the XMPP message id);
    ///     sending again with the same key never sends a second SMS. Any characters; those a
    ///     header cannot carry (and spaces and `%`) are sent percent-encoded.
    /// - Returns: the carrier's receipt; delivery is reported later by webhook.
    /// - Throws: ``CarrierError/refused(code:message:)`` with the carrier's reason,
    ///   ``CarrierError/unauthorized`` (also for a token with characters no header can carry),
    ///   ``CarrierError/unavailable(_:)`` after the last attempt or for an unusable base URL, or
    ///   ``CarrierError/invalidResponse(_:)``.
    public func send(
        from: PhoneNumber,
        to: PhoneNumber,
        text: String,
        accountID: String,
        token: String,
        idempotencyKey: String
    ) async throws(CarrierError) -> SendReceipt {
        try Self.checkToken(token)
        let body: Data
        do {
            body = try CarrierAPI.makeEncoder().encode(SendMessageRequest(from: from.e164, to: to.e164, text: text))
        } catch {
            // Encoding three strings cannot fail; say so rather than trap if it ever does.
            throw .invalidResponse("could not encode the request: \(error)")
        }
        var request = HTTPClientRequest(url: url("v1", "accounts", accountID, "messages"))
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: CarrierAPI.idempotencyKeyHeader, value: Self.headerSafe(idempotencyKey))
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))

        var logger = self.logger
        logger[metadataKey: "sms.idempotency_key"] = "\(idempotencyKey)"
        let answer = try await perform(request, operation: "send", logger: logger)
        switch answer.status {
        case 200..<300:
            return try decode(SendReceipt.self, from: answer.body)
        default:
            throw refusal(answer)
        }
    }

    /// Whether the account owns `number`: the check made when a user registers an account.
    ///
    /// - Returns: `true` on 200, `false` on 404.
    /// - Throws: ``CarrierError/unauthorized`` for a wrong token; otherwise as ``send(from:to:text:accountID:token:idempotencyKey:)``.
    public func checkNumber(_ number: PhoneNumber, accountID: String, token: String) async throws(CarrierError) -> Bool {
        try Self.checkToken(token)
        var request = HTTPClientRequest(url: url("v1", "accounts", accountID, "numbers", number.e164))
        request.method = .GET
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/json")

        let answer = try await perform(request, operation: "check-number", logger: logger)
        switch answer.status {
        case 200..<300:
            let ownership = try decode(NumberOwnership.self, from: answer.body)
            return ownership.number == number.e164
        case 404:
            return false
        default:
            throw refusal(answer)
        }
    }

    // MARK: - Transport

    private struct Answer {
        var status: Int
        var body: ByteBuffer
    }

    /// Runs `request` until it gets an answer that is not 5xx, or attempts run out.
    /// Returns any non-5xx answer except 401, which it throws as ``CarrierError/unauthorized``.
    private func perform(_ request: HTTPClientRequest, operation: String, logger: Logger) async throws(CarrierError) -> Answer {
        var lastFailure = ""
        var retryAfter: Duration?
        for attempt in 1...configuration.maxAttempts {
            if attempt > 1 {
                let pause = backoff(beforeAttempt: attempt, retryAfter: retryAfter)
                logger.notice("retrying the carrier", metadata: [
                    "sms.operation": "\(operation)", "sms.attempt": "\(attempt)",
                    "sms.pause_ms": "\(pause.milliseconds)", "sms.last_failure": "\(lastFailure)",
                ])
                do {
                    try await Task.sleep(for: pause)
                } catch {
                    throw .unavailable("cancelled while waiting to retry after: \(lastFailure)")
                }
            }
            retryAfter = nil
            do {
                let response = try await httpClient.execute(request, timeout: .init(configuration.requestTimeout))
                let body = try await response.body.collect(upTo: Self.maxResponseBytes)
                let status = Int(response.status.code)
                switch status {
                case 500..<600:
                    lastFailure = "HTTP \(status)\(Self.errorSummary(body))"
                    retryAfter = response.headers.first(name: "Retry-After").flatMap(Int.init).map { .seconds($0) }
                    continue
                case 401:
                    throw CarrierError.unauthorized
                default:
                    return Answer(status: status, body: body)
                }
            } catch let error as CarrierError {
                throw error
            } catch is CancellationError {
                throw .unavailable("cancelled")
            } catch let error as HTTPClientError where Self.isPermanent(error) {
                // Retrying cannot help; the short description never quotes header values.
                throw .unavailable("\(error.shortDescription) (carrier base URL '\(configuration.baseURL)')")
            } catch {
                // Connection refused or reset, DNS, TLS handshake, timeouts: all worth another try,
                // and the idempotency key makes the retry safe even if the carrier got the first one.
                lastFailure = "\(error)"
                if Task.isCancelled { throw .unavailable("cancelled after: \(lastFailure)") }
            }
        }
        logger.warning("the carrier stayed unavailable", metadata: [
            "sms.operation": "\(operation)", "sms.attempts": "\(configuration.maxAttempts)",
            "sms.last_failure": "\(lastFailure)",
        ])
        throw .unavailable("\(lastFailure) after \(configuration.maxAttempts) attempt\(configuration.maxAttempts == 1 ? "" : "s")")
    }

    /// Exponential backoff with jitter (a random pause in the upper half of each step): far
    /// enough apart to let a struggling carrier recover, spread so that many senders do not
    /// retry in lockstep.
    private func backoff(beforeAttempt attempt: Int, retryAfter: Duration?) -> Duration {
        let exponent = min(attempt - 2, 30)
        var pause = configuration.initialBackoff * (1 << exponent)
        if pause > configuration.maxBackoff { pause = configuration.maxBackoff }
        pause = pause * Double.random(in: 0.5...1.0)
        if let retryAfter, retryAfter > pause {
            pause = min(retryAfter, configuration.maxBackoff)
        }
        return pause
    }

    /// Errors no retry can fix: the request itself is unusable, or the client is gone. Matched
    /// by their short description where they carry values.
    private static func isPermanent(_ error: HTTPClientError) -> Bool {
        [.invalidURL, .emptyHost, .emptyScheme, .missingSocketPath, .alreadyShutdown, .cancelled].contains(error)
            || ["Unsupported scheme", "Invalid header field names", "Invalid header field values"]
                .contains(error.shortDescription)
    }

    /// A token no header can carry (control characters, non-ASCII) cannot be one the carrier
    /// issued. Refused here rather than by AsyncHTTPClient, whose error would quote the secret.
    private static func checkToken(_ token: String) throws(CarrierError) {
        guard !token.isEmpty, token.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw .unauthorized
        }
    }

    /// The idempotency key with every byte outside printable ASCII, and `%`, percent-encoded:
    /// the bridge derives keys from XMPP message ids, which may hold any character, and the
    /// same id must always give the same key.
    static func headerSafe(_ key: String) -> String {
        var output = ""
        for byte in key.utf8 {
            if (0x21...0x7E).contains(byte), byte != UInt8(ascii: "%") {
                output.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                output += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return output
    }

    private func decode<T: Decodable>(_ type: T.Type, from body: ByteBuffer) throws(CarrierError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
        } catch {
            throw .invalidResponse("expected \(T.self) JSON: \(error); got '\(Self.preview(body))'")
        }
    }

    /// The ``CarrierError`` for a final (non-2xx, non-5xx) answer.
    private func refusal(_ answer: Answer) -> CarrierError {
        if let body = try? JSONDecoder().decode(CarrierErrorBody.self, from: Data(answer.body.readableBytesView)) {
            return .refused(code: body.error.code, message: body.error.message)
        }
        switch answer.status {
        case 400..<500:
            return .refused(code: "http_\(answer.status)", message: "the carrier refused the request with HTTP status \(answer.status)")
        default:
            return .invalidResponse("unexpected HTTP status \(answer.status)")
        }
    }

    private static func errorSummary(_ body: ByteBuffer) -> String {
        guard let decoded = try? JSONDecoder().decode(CarrierErrorBody.self, from: Data(body.readableBytesView)) else {
            return ""
        }
        return ": \(decoded.error.message) (\(decoded.error.code))"
    }

    private static func preview(_ body: ByteBuffer) -> String {
        String(decoding: body.readableBytesView.prefix(200), as: UTF8.self)
    }

    /// The base URL joined with percent-encoded path segments (so an account id or the `+` of a
    /// number cannot change the path).
    private func url(_ segments: String...) -> String {
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return base + segments.map { "/" + Self.percentEncodedSegment($0) }.joined()
    }

    static func percentEncodedSegment(_ segment: String) -> String {
        var output = ""
        for byte in segment.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                output += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return output
    }
}

extension Duration {
    fileprivate var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
