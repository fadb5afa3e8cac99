import Foundation
import XCTest
import SMSBridge

/// The JSON on the wire, exactly as docs/sms-carrier-api.md shows it.
final class CarrierAPITests: XCTestCase {
    private func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try CarrierAPI.makeEncoder().encode(value), as: UTF8.self)
    }

    func testSendRequestAndReceipt() throws {
        XCTAssertEqual(
            try json(SendMessageRequest(from: "+15550001111", to: "+15552223333", text: "Hi")),
            #"{"from":"+15550001111","text":"Hi","to":"+15552223333"}"#)
        let receipt = try JSONDecoder().decode(
            SendReceipt.self, from: Data(#"{"id": "msg_1", "segments": 2, "status": "queued"}"#.utf8))
        XCTAssertEqual(receipt, SendReceipt(id: "msg_1", segments: 2, status: "queued"))
    }

    func testErrorBody() throws {
        let body = try JSONDecoder().decode(
            CarrierErrorBody.self,
            from: Data(#"{"error": {"code": "invalid_number", "message": "Not a number."}}"#.utf8))
        XCTAssertEqual(body.error, CarrierErrorDetail(code: "invalid_number", message: "Not a number."))
    }

    func testInboundWebhook() throws {
        let text = #"{"type": "message", "id": "in_1", "from": "+15552223333", "to": "+15550001111", "text": "Hello", "received_at": "2025-01-31T12:00:00Z"}"#
        let webhook = try JSONDecoder().decode(CarrierWebhook.self, from: Data(text.utf8))
        guard case .message(let message) = webhook else { return XCTFail("\(webhook)") }
        XCTAssertEqual(message.id, "in_1")
        XCTAssertEqual(message.receivedAt, "2025-01-31T12:00:00Z")
        XCTAssertEqual(message.receivedDate?.timeIntervalSince1970, 1_738_324_800)
        XCTAssertEqual(
            try json(webhook),
            #"{"from":"+15552223333","id":"in_1","received_at":"2025-01-31T12:00:00Z","text":"Hello","to":"+15550001111","type":"message"}"#)
    }

    func testFractionalSecondsInReceivedAt() {
        let message = InboundSMS(id: "in_1", from: "+1", to: "+1", text: "", receivedAt: "2025-01-31T12:00:00.250Z")
        XCTAssertEqual(message.receivedDate?.timeIntervalSince1970 ?? 0, 1_738_324_800.25, accuracy: 0.001)
    }

    func testStatusWebhooks() throws {
        let delivered = try JSONDecoder().decode(
            CarrierWebhook.self, from: Data(#"{"type": "status", "id": "msg_1", "status": "delivered"}"#.utf8))
        XCTAssertEqual(delivered, .status(DeliveryReport(id: "msg_1", status: .delivered)))
        let failed = CarrierWebhook.status(DeliveryReport(
            id: "msg_2", status: .failed, error: CarrierErrorDetail(code: "unreachable", message: "Number unreachable")))
        XCTAssertEqual(
            try json(failed),
            #"{"error":{"code":"unreachable","message":"Number unreachable"},"id":"msg_2","status":"failed","type":"status"}"#)
        XCTAssertEqual(try JSONDecoder().decode(CarrierWebhook.self, from: try CarrierAPI.makeEncoder().encode(failed)), failed)
    }

    func testUnknownWebhookTypeIsAnError() {
        XCTAssertThrowsError(try JSONDecoder().decode(
            CarrierWebhook.self, from: Data(#"{"type": "carrier_pigeon", "id": "x"}"#.utf8)))
        XCTAssertThrowsError(try JSONDecoder().decode(
            CarrierWebhook.self, from: Data(#"{"type": "status", "id": "msg_1", "status": "lost"}"#.utf8)))
    }

    func testCarrierErrorSentences() {
        XCTAssertEqual(
            CarrierError.refused(code: "invalid_number", message: "The recipient is not a phone number.").description,
            "the carrier refused the message: The recipient is not a phone number. (invalid_number)")
        XCTAssertEqual(CarrierError.unauthorized.description, "the carrier did not accept the account's token")
    }
}
