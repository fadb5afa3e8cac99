import Foundation
import XCTest
import SMSStubCarrier

/// The stub's account forms: the `--account` argument and the control API's JSON.
final class StubAccountTests: XCTestCase {
    func testCommandLineAccount() throws {
        let (id, account) = try StubAccount.parse(
            argument: "acct_1:tok_1:+15550001111,+15550001112:http://127.0.0.1:8480/webhooks/sms").get()
        XCTAssertEqual(id, "acct_1")
        XCTAssertEqual(account, StubAccount(
            token: "tok_1", numbers: ["+15550001111", "+15550001112"],
            webhookURL: "http://127.0.0.1:8480/webhooks/sms"))
        let withoutWebhook = try StubAccount.parse(argument: "a:t:+15550001111").get()
        XCTAssertNil(withoutWebhook.account.webhookURL)
    }

    func testBadCommandLineAccounts() {
        for argument in ["a:t", ":t:+15550001111", "a::+15550001111", "a:t:", "a:t:555-1234:http://x"] {
            guard case .failure(let error) = StubAccount.parse(argument: argument) else {
                XCTFail("'\(argument)' was accepted")
                continue
            }
            XCTAssertTrue(error.description.contains("ID:TOKEN:NUMBER"), error.description)
        }
    }

    func testAccountsFileDecodes() throws {
        let json = #"{"acct_1": {"token": "tok_1", "numbers": ["+15550001111"], "webhook_url": "http://127.0.0.1:8080/hooks"}}"#
        let accounts = try JSONDecoder().decode([String: StubAccount].self, from: Data(json.utf8))
        XCTAssertEqual(accounts["acct_1"]?.webhookURL, "http://127.0.0.1:8080/hooks")
    }

    func testRegistrationAcceptsEitherWebhookKey() throws {
        for key in ["webhook_url", "webhook_base_url"] {
            let json = #"{"id": "a", "token": "t", "numbers": ["+15550001111"], "\#(key)": "http://h/x"}"#
            let registration = try JSONDecoder().decode(StubAccountRegistration.self, from: Data(json.utf8))
            XCTAssertEqual(registration.webhookURL, "http://h/x", key)
        }
        let none = try JSONDecoder().decode(
            StubAccountRegistration.self, from: Data(#"{"id": "a", "token": "t", "numbers": []}"#.utf8))
        XCTAssertNil(none.webhookURL)
    }
}
