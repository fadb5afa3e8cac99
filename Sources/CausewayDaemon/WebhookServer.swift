import GatewayCore
import Hummingbird
import Logging

/// The daemon's HTTP listener: carrier webhooks at `/webhooks/<bridge name>/…`, handed to that
/// bridge, and `/health` for monitoring.
enum WebhookServer {
    /// Requests larger than this are refused before they are read.
    static let maximumBodySize = 1 << 20

    static func application(settings: DaemonConfiguration.HTTPSettings, bridges: [String: any Bridge], logger: Logger) -> some ApplicationProtocol {
        let router = Router()
        router.get("/health") { _, _ in
            "ok\n"
        }
        router.post("/webhooks/:bridge/**") { request, context -> Response in
            let name = try context.parameters.require("bridge")
            guard let bridge = bridges[name] else {
                return Response(status: .notFound, body: .init(byteBuffer: .init(string: "no bridge named \(name)\n")))
            }
            var request = request
            let body: [UInt8]
            do {
                body = Array(buffer: try await request.collectBody(upTo: maximumBodySize))
            } catch {
                return Response(status: .contentTooLarge, body: .init(byteBuffer: .init(string: "body larger than \(maximumBodySize) bytes\n")))
            }
            var headers: [String: String] = [:]
            for field in request.headers {
                headers[field.name.canonicalName] = field.value
            }
            let path = "/" + context.parameters.getCatchAll().joined(separator: "/")
            let answer = await bridge.handleWebhook(WebhookRequest(path: path, method: request.method.rawValue, headers: headers, body: body))
            return Response(
                status: HTTPResponse.Status(code: answer.status),
                headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: .init(string: answer.body.isEmpty ? "" : answer.body + "\n"))
            )
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "causeway"),
            logger: logger
        )
    }
}
