import Foundation
import Hummingbird
import SMSBridge

/// JSON in and out for the stub's handlers.
enum StubHTTP {
    /// The largest request body read; a 10-segment SMS in JSON is a few kilobytes.
    static let maxBodyBytes = 256 * 1024

    /// Why a request body was not usable, already as the answer to give.
    struct BodyProblem: Error {
        var response: Response
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status) -> Response {
        let data = (try? CarrierAPI.makeEncoder().encode(value)) ?? Data("{}".utf8)
        var body = ByteBuffer()
        body.writeBytes(data)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
    }

    static func error(_ status: HTTPResponse.Status, code: String, message: String) -> Response {
        json(CarrierErrorBody(code: code, message: message), status: status)
    }

    /// The raw body of `request`.
    static func body(of request: Request) async throws(BodyProblem) -> [UInt8] {
        do {
            let buffer = try await request.body.collect(upTo: maxBodyBytes)
            return Array(buffer.readableBytesView)
        } catch {
            throw BodyProblem(response: Self.error(
                .contentTooLarge, code: "invalid_request",
                message: "the request body is larger than \(maxBodyBytes) bytes or was cut off"))
        }
    }

    /// The body of `request` decoded as `T`; a 400 `invalid_request` answer saying why if not.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws(BodyProblem) -> T {
        let bytes = try await body(of: request)
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw BodyProblem(response: Self.error(
                .badRequest, code: "invalid_request", message: "the body is not the expected JSON: \(describe(error))"))
        }
    }

    /// A decoding error as a short sentence ("missing field 'to'") instead of Foundation's dump.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return "missing field '\(parent.isEmpty ? "" : parent + ".")\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "field '\(path(context.codingPath))' has the wrong type"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "field '\(path(context.codingPath))' is invalid"
        @unknown default:
            return "\(error)"
        }
    }

    /// A path parameter, percent-decoded (Hummingbird hands them over raw, and clients send the
    /// `+` of a number as `%2B`).
    static func parameter(_ name: String, in context: some RequestContext) -> String? {
        guard let raw = context.parameters.get(name) else { return nil }
        return raw.removingPercentEncoding ?? raw
    }
}
