import XCTest
@testable import Charts

final class AxisTests: XCTestCase {
    func testAutomaticDomainIsRoundedToNiceNumbers() {
        let scale = Scale(axis: Axis("x"), values: [-1.73, 0.2, 1.81])
        XCTAssertEqual(scale.lower, -2)
        XCTAssertEqual(scale.upper, 2)
        XCTAssertEqual(scale.ticks, [-2, -1, 0, 1, 2])
    }

    func testTickLabelsHaveNoFloatNoise() {
        let scale = Scale(axis: Axis("x", domain: 0...0.9), values: [])
        XCTAssertEqual(scale.tickLabels, ["0", "0.2", "0.4", "0.6", "0.8"])
        XCTAssertEqual(TickFormatter.labels(for: [0.1, 0.2, 0.30000000000000004], logScale: false), ["0.1", "0.2", "0.3"])
    }

    func testLargeNumbersAreGroupedAndTinyOnesScientific() {
        XCTAssertEqual(TickFormatter.labels(for: [0, 5000, 10000], logScale: false), ["0", "5,000", "10,000"])
        XCTAssertEqual(TickFormatter.labels(for: [0, 0.0001, 0.0002], logScale: false), ["0", "10⁻⁴", "2×10⁻⁴"])
        XCTAssertEqual(TickFormatter.labels(for: [-1, 0, 1], logScale: false), ["−1", "0", "1"])
        XCTAssertEqual(TickFormatter.number(0.123456), "0.123")
        XCTAssertEqual(TickFormatter.number(1234.6), "1,235")
    }

    func testLogScaleTicksArePowersOfTen() {
        let scale = Scale(axis: Axis("loss", logScale: true), values: [0.02, 3, 40, -1])
        XCTAssertEqual(scale.lower, 0.01, accuracy: 1e-12)
        XCTAssertEqual(scale.upper, 100, accuracy: 1e-9)
        XCTAssertEqual(scale.tickLabels, ["0.01", "0.1", "1", "10", "100"])
    }

    func testConstantDataGetsAVisibleRange() {
        let scale = Scale(axis: Axis("x"), values: [3, 3, 3])
        XCTAssertLessThan(scale.lower, 3)
        XCTAssertGreaterThan(scale.upper, 3)
        let empty = Scale(axis: Axis("x"), values: [])
        XCTAssertEqual(empty.lower, 0)
        XCTAssertEqual(empty.upper, 1)
    }
}
