@testable import GatewayCore
import XCTest

final class DictionaryShrinkingTests: XCTestCase {
    func testTheLastRemovalReleasesTheStorage() {
        var table: [Int: String] = [:]
        for key in 0..<300 { table[key] = "\(key)" }
        XCTAssertEqual(table.removeValueReleasingEmptyStorage(forKey: 7), "7")
        XCTAssertGreaterThanOrEqual(table.capacity, 299, "not empty yet: the storage stays")
        for key in 0..<300 { table.removeValueReleasingEmptyStorage(forKey: key) }
        XCTAssertTrue(table.isEmpty)
        XCTAssertEqual(table.capacity, 0)
        XCTAssertNil(table.removeValueReleasingEmptyStorage(forKey: 1))
    }
}
