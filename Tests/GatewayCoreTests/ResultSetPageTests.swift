import XCTest
import XMPPCore
@testable import GatewayCore

final class ResultSetPageTests: XCTestCase {
    private let ids = (1...7).map { "id\($0)" }

    private func set(_ xml: String) -> XMPPCore.XMLElement {
        XMPPCore.XMLElement.parse("<set xmlns='http://jabber.org/protocol/rsm'>\(xml)</set>")!
    }

    func testPagesForwardBackwardAndByIndex() {
        let first = ResultSetPage(request: set("<max>3</max>"), ids: ids)
        XCTAssertEqual(first.range, 0..<3)
        XCTAssertEqual(first.element?.childText("last"), "id3")
        XCTAssertEqual(first.element?.childText("count"), "7")
        XCTAssertEqual(first.element?.child("first")?[attribute: "index"], "0")

        XCTAssertEqual(ResultSetPage(request: set("<max>3</max><after>id3</after>"), ids: ids).range, 3..<6)
        XCTAssertEqual(ResultSetPage(request: set("<max>3</max><after>id6</after>"), ids: ids).range, 6..<7)
        XCTAssertEqual(ResultSetPage(request: set("<max>3</max><before/>"), ids: ids).range, 4..<7)
        XCTAssertEqual(ResultSetPage(request: set("<max>3</max><before>id3</before>"), ids: ids).range, 0..<2)
        XCTAssertEqual(ResultSetPage(request: set("<max>2</max><index>5</index>"), ids: ids).range, 5..<7)
        XCTAssertEqual(ResultSetPage(request: set("<max>3</max><after>gone</after>"), ids: ids).range, 7..<7)
        XCTAssertEqual(ResultSetPage(request: set("<max>0</max>"), ids: ids).element?.childText("count"), "7", "max 0 asks for the count")
    }

    func testNoRequestReturnsEverythingThatFitsWithoutASet() {
        let page = ResultSetPage(request: nil, ids: ids)
        XCTAssertEqual(page.range, 0..<7)
        XCTAssertNil(page.element)
        let many = (0..<300).map(String.init)
        XCTAssertEqual(ResultSetPage(request: nil, ids: many).range, 0..<ResultSetPage.largestPage)
        XCTAssertNotNil(ResultSetPage(request: nil, ids: many).element, "a cut list says so")
    }
}
