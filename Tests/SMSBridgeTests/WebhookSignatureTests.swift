import XCTest
@testable import SMSBridge

final class WebhookSignatureTests: XCTestCase {
    private let secret = "whsec_test"
    private let body = Array(#"{"type":"status","id":"msg_1","status":"delivered"}"#.utf8)
    private let timestamp = 1_700_000_000

    func testHMACMatchesRFC4231() {
        // RFC 4231 test case 2.
        let mac = WebhookSignature.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        XCTAssertEqual(WebhookSignature.hex(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testHMACWithEmptyKey() {
        // RFC 4231 has no empty key; this is `openssl dgst -sha256 -hmac ''` of "abc".
        let mac = WebhookSignature.hmacSHA256(key: [], message: Array("abc".utf8))
        XCTAssertEqual(mac.count, 32)
        XCTAssertEqual(WebhookSignature.hex(mac), "fd7adb152c05ef80dccf50a1fa4c05d5a3ec6da95575fc312ae7c5d091836351")
    }

    func testSignatureFormatMatchesOpenSSL() {
        // printf '%s' '1700000000.{"type":"status","id":"msg_1","status":"delivered"}' | openssl dgst -sha256 -hmac whsec_test
        XCTAssertEqual(
            WebhookSignature.sign(secret: secret, timestamp: timestamp, body: body),
            "v1=333648adaaae1994cf439127aea95a690a9ae36a68a931415445267a9df31c22")
        XCTAssertEqual(
            WebhookSignature.sign(secret: Array(secret.utf8), timestamp: timestamp, body: body),
            WebhookSignature.sign(secret: secret, timestamp: timestamp, body: body))
    }

    private func verify(
        timestamp: String? = "1700000000", signature: String?, body: [UInt8]? = nil,
        now: Int = 1_700_000_000, verifier: WebhookVerifier? = nil
    ) -> WebhookVerdict {
        (verifier ?? WebhookVerifier(secret: secret)).verify(
            timestampHeader: timestamp, signatureHeader: signature, body: body ?? self.body, now: now)
    }

    private var goodSignature: String {
        WebhookSignature.sign(secret: secret, timestamp: timestamp, body: body)
    }

    func testValidSignature() {
        XCTAssertEqual(verify(signature: goodSignature), .valid(signature: goodSignature))
    }

    func testUpperCaseHexIsAcceptedAndNormalized() {
        let upper = "v1=" + goodSignature.dropFirst(3).uppercased()
        XCTAssertEqual(verify(signature: upper), .valid(signature: goodSignature))
    }

    func testOneOfSeveralSignaturesIsEnough() {
        let other = WebhookSignature.sign(secret: "old secret", timestamp: timestamp, body: body)
        XCTAssertEqual(verify(signature: "\(other), \(goodSignature)"), .valid(signature: goodSignature))
        XCTAssertEqual(verify(signature: "v0=abc,\(goodSignature)"), .valid(signature: goodSignature), "unknown versions are skipped")
    }

    func testMissingHeadersAre401() {
        XCTAssertEqual(status(verify(timestamp: nil, signature: goodSignature)), 401)
        XCTAssertEqual(status(verify(signature: nil)), 401)
        XCTAssertEqual(status(verify(timestamp: nil, signature: nil)), 401)
    }

    func testUnreadableHeadersAre403() {
        XCTAssertEqual(status(verify(timestamp: "yesterday", signature: goodSignature)), 403)
        XCTAssertEqual(status(verify(timestamp: "-5", signature: goodSignature)), 403)
        XCTAssertEqual(status(verify(timestamp: "", signature: goodSignature)), 403)
        XCTAssertEqual(status(verify(timestamp: "99999999999999999999999", signature: goodSignature)), 403)
        XCTAssertEqual(status(verify(signature: "sha256=abcdef")), 403)
        XCTAssertEqual(status(verify(signature: "v1=xyz")), 403)
        XCTAssertEqual(status(verify(signature: "v1=abcd")), 403, "too short")
        XCTAssertEqual(status(verify(signature: "")), 403)
    }

    func testWrongSignatureIs403() {
        let wrongSecret = WebhookSignature.sign(secret: "not the secret", timestamp: timestamp, body: body)
        XCTAssertEqual(status(verify(signature: wrongSecret)), 403)
        var tampered = body
        tampered[tampered.count - 3] = UInt8(ascii: "x")
        XCTAssertEqual(status(verify(signature: goodSignature, body: tampered)), 403)
        XCTAssertEqual(status(verify(timestamp: "1700000001", signature: goodSignature, now: 1_700_000_001)), 403,
                       "the timestamp is signed too")
        let flipped = String(goodSignature.dropLast()) + (goodSignature.hasSuffix("0") ? "1" : "0")
        XCTAssertEqual(status(verify(signature: flipped)), 403)
    }

    func testStaleOrFutureTimestampsAre403() {
        XCTAssertEqual(verify(signature: goodSignature, now: timestamp + 300), .valid(signature: goodSignature))
        XCTAssertEqual(verify(signature: goodSignature, now: timestamp - 300), .valid(signature: goodSignature))
        guard case .rejected(403, let reason) = verify(signature: goodSignature, now: timestamp + 301) else {
            return XCTFail("a 301 s old webhook was accepted")
        }
        XCTAssertTrue(reason.contains("stale"), reason)
        XCTAssertEqual(status(verify(signature: goodSignature, now: timestamp - 301)), 403)
        let strict = WebhookVerifier(secret: secret, tolerance: 10)
        XCTAssertEqual(status(verify(signature: goodSignature, now: timestamp + 11, verifier: strict)), 403)
    }

    func testReplayCacheSeesEachSignatureOnce() {
        let cache = ReplayCache(tolerance: 300)
        XCTAssertTrue(cache.firstSighting("v1=aa", at: 1000))
        XCTAssertFalse(cache.firstSighting("v1=aa", at: 1001))
        XCTAssertTrue(cache.firstSighting("v1=bb", at: 1001))
        XCTAssertFalse(cache.firstSighting("v1=aa", at: 1000 + 600), "kept for twice the tolerance")
        XCTAssertTrue(cache.firstSighting("v1=aa", at: 1000 + 601), "forgotten after that")
    }

    func testReplayCacheEvictsExpiredEntries() {
        let cache = ReplayCache(tolerance: 10)
        for index in 0..<100 {
            XCTAssertTrue(cache.firstSighting("v1=\(index)", at: 1000 + index))
        }
        XCTAssertEqual(cache.count, 21, "entries seen in the last 20 s, 1079…1099")
        XCTAssertTrue(cache.firstSighting("v1=0", at: 1100))
    }

    func testReplayCacheIsBounded() {
        let cache = ReplayCache(tolerance: 300, capacity: 3)
        for name in ["a", "b", "c", "d"] {
            XCTAssertTrue(cache.firstSighting(name, at: 1000))
        }
        XCTAssertEqual(cache.count, 3)
        XCTAssertFalse(cache.firstSighting("d", at: 1000))
        XCTAssertTrue(cache.firstSighting("a", at: 1000), "the oldest went first")
    }

    func testForgottenSignatureIsAcceptedAgain() {
        let cache = ReplayCache(tolerance: 300)
        XCTAssertTrue(cache.firstSighting("v1=aa", at: 1000))
        cache.forget("v1=aa")
        XCTAssertEqual(cache.count, 0)
        XCTAssertTrue(cache.firstSighting("v1=aa", at: 1000), "the receiver failed and the carrier retried")
        XCTAssertFalse(cache.firstSighting("v1=aa", at: 1001))
        // The first entry's expiry must not take the re-recorded one with it.
        XCTAssertTrue(cache.firstSighting("v1=bb", at: 1601))
        XCTAssertEqual(cache.count, 1, "both aa entries expired at 1601")
    }

    func testReplayCacheUnderManyEntries() {
        let cache = ReplayCache(tolerance: 1, capacity: 1_000)
        for index in 0..<20_000 {
            XCTAssertTrue(cache.firstSighting("s\(index)", at: index / 10))
        }
        XCTAssertLessThanOrEqual(cache.count, 30)
    }

    func testReplayCacheWithVerifier() {
        let verifier = WebhookVerifier(secret: secret)
        let cache = ReplayCache(tolerance: verifier.tolerance)
        for attempt in 0..<2 {
            guard case .valid(let signature) = verifier.verify(
                timestampHeader: "\(timestamp)", signatureHeader: goodSignature, body: body, now: timestamp + 1)
            else { return XCTFail("not valid") }
            XCTAssertEqual(cache.firstSighting(signature, at: timestamp + 1), attempt == 0)
        }
    }

    func testReplayCacheIsSafeAcrossTasks() async {
        let cache = ReplayCache()
        let firsts = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    (0..<500).reduce(0) { $0 + (cache.firstSighting("sig\($1)", at: 1) ? 1 : 0) }
                }
            }
            return await group.reduce(0, +)
        }
        XCTAssertEqual(firsts, 500, "each signature is first exactly once")
    }

    private func status(_ verdict: WebhookVerdict) -> Int? {
        if case .rejected(let status, _) = verdict { return status }
        return nil
    }
}
