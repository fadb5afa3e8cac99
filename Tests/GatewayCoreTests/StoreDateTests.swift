import Foundation
import GRDB
import XCTest
@testable import GatewayCore

final class StoreDateTests: XCTestCase {
    /// Dates around every kind of boundary: epoch, leap days, century rules, ends of months and
    /// years, before 1970, and fractions that round to the nearest millisecond, halves upwards (as ICU does).
    private var samples: [Date] {
        var dates: [Date] = [
            Date(timeIntervalSince1970: 0),
            Date(timeIntervalSince1970: -0.0005),
            Date(timeIntervalSince1970: -86_400.25),
            Date(timeIntervalSince1970: 951_782_400),  // 2000-02-29
            Date(timeIntervalSince1970: 4_107_542_399.9999),  // 2100-02-28 23:59:59.999
            Date(timeIntervalSince1970: 1_795_259_253.1649),
            Date(timeIntervalSince1970: 1_704_067_199.999),  // 2023-12-31 23:59:59.999
            Date(timeIntervalSince1970: -2_208_988_800),  // 1900-01-01
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            dates.append(Date(timeIntervalSince1970: Double.random(in: -3e9...7e9, using: &generator)))
        }
        return dates
    }

    func testTextIsWhatGRDBWouldWrite() {
        for date in samples {
            XCTAssertEqual(StoreDate.databaseValue(date), date.databaseValue, "\(date.timeIntervalSince1970)")
        }
    }

    func testReadsBackWhatEitherWrote() throws {
        for date in samples {
            let ours = try XCTUnwrap(StoreDate.read(StoreDate.databaseValue(date)))
            let grdbs = try XCTUnwrap(StoreDate.read(date.databaseValue))
            let stored = (date.timeIntervalSince1970 * 1000 + 0.5).rounded(.down) / 1000
            XCTAssertEqual(ours.timeIntervalSince1970, stored, accuracy: 1e-6)
            XCTAssertEqual(grdbs.timeIntervalSince1970, stored, accuracy: 1e-6)
            let grdbReading = try XCTUnwrap(Date.fromDatabaseValue(StoreDate.databaseValue(date)))
            XCTAssertEqual(ours.timeIntervalSince1970, grdbReading.timeIntervalSince1970, accuracy: 1e-6)
        }
    }

    func testOtherShapesAndGarbage() {
        XCTAssertEqual(StoreDate.date("2026-11-21T10:40:04")?.timeIntervalSince1970, 1_795_257_604)
        XCTAssertEqual(StoreDate.date("2026-11-21 10:40:04.5")?.timeIntervalSince1970, 1_795_257_604.5)
        for bad in ["", "2026-11-21", "2026-13-01 00:00:00", "2026-11-21 24:00:00", "2026-11-21 10:40:04Z", "x026-11-21 10:40:04"] {
            XCTAssertNil(StoreDate.date(bad), bad)
        }
        // Not text at all: GRDB's own reading (a number is seconds since 1970).
        XCTAssertEqual(StoreDate.read(12.5.databaseValue)?.timeIntervalSince1970, 12.5)
        XCTAssertNil(StoreDate.read(.null))
    }
}
