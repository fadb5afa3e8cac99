import XCTest
@testable import SMSBridge

final class SMSSegmenterTests: XCTestCase {
    private func count(_ text: String) -> (SMSSegmenter.Encoding, Int) {
        let result = SMSSegmenter.segments(for: text)
        return (result.encoding, result.count)
    }

    func testEmptyTextHasNoSegments() {
        XCTAssertTrue(count("") == (.gsm7, 0))
        XCTAssertEqual(SMSSegmenter.split("", maxSegments: 10), [])
    }

    func testGSM7SingleSegmentBoundary() {
        XCTAssertTrue(count("Hello") == (.gsm7, 1))
        XCTAssertTrue(count(String(repeating: "a", count: 160)) == (.gsm7, 1))
        XCTAssertTrue(count(String(repeating: "a", count: 161)) == (.gsm7, 2))
    }

    func testGSM7ConcatenatedBoundaries() {
        XCTAssertTrue(count(String(repeating: "a", count: 306)) == (.gsm7, 2))
        XCTAssertTrue(count(String(repeating: "a", count: 307)) == (.gsm7, 3))
        XCTAssertTrue(count(String(repeating: "a", count: 1530)) == (.gsm7, 10))
        XCTAssertTrue(count(String(repeating: "a", count: 1531)) == (.gsm7, 11))
    }

    func testWholeBasicAlphabetIsGSM7() {
        let basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
            + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
        XCTAssertEqual(basic.unicodeScalars.count, 127, "128 table positions less the escape")
        XCTAssertEqual(SMSSegmenter.encoding(for: basic), .gsm7)
        for scalar in basic.unicodeScalars {
            XCTAssertEqual(SMSSegmenter.gsm7Cost(scalar), 1, "\(scalar)")
        }
    }

    func testExtensionCharactersCountTwo() {
        XCTAssertTrue(count("€") == (.gsm7, 1))
        for scalar in "^{}\\[~]|€\u{0C}".unicodeScalars {
            XCTAssertEqual(SMSSegmenter.gsm7Cost(scalar), 2, "\(scalar)")
        }
        XCTAssertTrue(count(String(repeating: "€", count: 80)) == (.gsm7, 1), "160 septets")
        XCTAssertTrue(count(String(repeating: "€", count: 81)) == (.gsm7, 2))
        XCTAssertTrue(count(String(repeating: "a", count: 159) + "[") == (.gsm7, 2), "161 septets")
    }

    func testEscapeSequenceIsNeverSplit() {
        // 152 septets, then € (2): it does not fit the first segment's 153 and moves on whole.
        let text = String(repeating: "a", count: 152) + "€" + String(repeating: "b", count: 10)
        let parts = SMSSegmenter.split(text, maxSegments: 10)!
        XCTAssertEqual(parts.count, 2)
        XCTAssertEqual(parts[0], String(repeating: "a", count: 152))
        XCTAssertEqual(parts[1], "€" + String(repeating: "b", count: 10))
        // 153 × 2 = 306 septets would fit two segments by division, but the straddling € needs a third.
        let straddling = String(repeating: "a", count: 152) + "€" + String(repeating: "b", count: 152)
        XCTAssertTrue(count(straddling) == (.gsm7, 3))
    }

    func testNonGSMCharactersSwitchToUCS2() {
        XCTAssertTrue(count("Привет") == (.ucs2, 1))
        XCTAssertTrue(count("naïve") == (.ucs2, 1), "ï is not in GSM-7")
        XCTAssertTrue(count("ça") == (.ucs2, 1), "only the capital Ç is in GSM-7")
        XCTAssertTrue(count("e\u{301}") == (.ucs2, 1), "a decomposed é is not GSM-7")
        XCTAssertTrue(count("`") == (.ucs2, 1))
        XCTAssertTrue(count(String(repeating: "a", count: 159) + "é") == (.gsm7, 1))
    }

    func testUCS2Boundaries() {
        XCTAssertTrue(count(String(repeating: "ж", count: 70)) == (.ucs2, 1))
        XCTAssertTrue(count(String(repeating: "ж", count: 71)) == (.ucs2, 2))
        XCTAssertTrue(count(String(repeating: "ж", count: 134)) == (.ucs2, 2))
        XCTAssertTrue(count(String(repeating: "ж", count: 135)) == (.ucs2, 3))
        XCTAssertTrue(count(String(repeating: "ж", count: 670)) == (.ucs2, 10))
        XCTAssertTrue(count(String(repeating: "ж", count: 671)) == (.ucs2, 11))
    }

    func testOneNonGSMCharacterMakesTheWholeTextUCS2() {
        // 100 GSM letters fit one GSM-7 segment but need two in UCS-2.
        XCTAssertTrue(count(String(repeating: "a", count: 100)) == (.gsm7, 1))
        XCTAssertTrue(count(String(repeating: "a", count: 100) + "ж") == (.ucs2, 2))
    }

    func testEmojiCountTwoCodeUnits() {
        XCTAssertTrue(count(String(repeating: "😀", count: 35)) == (.ucs2, 1), "70 code units")
        XCTAssertTrue(count(String(repeating: "😀", count: 36)) == (.ucs2, 2))
    }

    func testSurrogatePairIsNeverSplit() {
        // 66 code units, then an emoji (2) that would straddle the 67-unit boundary.
        let text = String(repeating: "ж", count: 66) + "😀" + String(repeating: "ж", count: 10)
        let parts = SMSSegmenter.split(text, maxSegments: 10)!
        XCTAssertEqual(parts.count, 2)
        XCTAssertEqual(parts[0], String(repeating: "ж", count: 66))
        XCTAssertEqual(parts[1], "😀" + String(repeating: "ж", count: 10))
        for part in parts {
            XCTAssertLessThanOrEqual(part.utf16.count, 67)
        }
    }

    func testSplitPartsJoinBackAndRespectCapacities() {
        let texts = [
            String(repeating: "The quick brown fox [jumps] over €5. ", count: 30),
            String(repeating: "Съешь же ещё этих мягких французских булок 🥐 ", count: 10),
            String(repeating: "👍🏽", count: 100),
        ]
        for text in texts {
            let (encoding, segmentCount) = SMSSegmenter.segments(for: text)
            guard let parts = SMSSegmenter.split(text, maxSegments: 100) else {
                XCTFail("no split")
                continue
            }
            XCTAssertEqual(parts.count, segmentCount)
            XCTAssertEqual(parts.joined(), text)
            for part in parts {
                let units = encoding == .gsm7
                    ? part.unicodeScalars.reduce(0) { $0 + SMSSegmenter.gsm7Cost($1)! }
                    : part.utf16.count
                XCTAssertLessThanOrEqual(units, encoding.concatenatedSegmentCapacity)
                XCTAssertFalse(part.isEmpty)
            }
        }
    }

    func testSplitRefusesMoreThanMaxSegments() {
        let text = String(repeating: "a", count: 1531)
        XCTAssertNil(SMSSegmenter.split(text, maxSegments: 10))
        XCTAssertEqual(SMSSegmenter.split(text, maxSegments: 11)?.count, 11)
        XCTAssertEqual(SMSSegmenter.split("short", maxSegments: 1), ["short"])
        XCTAssertNil(SMSSegmenter.split(String(repeating: "a", count: 161), maxSegments: 1))
    }

    func testCRLFCountsTwoSeptets() {
        XCTAssertTrue(count(String(repeating: "\r\n", count: 80)) == (.gsm7, 1))
        XCTAssertTrue(count(String(repeating: "\r\n", count: 80) + "a") == (.gsm7, 2))
    }
}
