import XCTest
@testable import VLP

final class ReportsAxisScaleTests: TorchTestCase {
    func testNiceNumbers() {
        XCTAssertEqual(AxisScale.niceNumber(0.23, rounding: true), 0.2, accuracy: 1e-12)
        XCTAssertEqual(AxisScale.niceNumber(3.4, rounding: true), 5)
        XCTAssertEqual(AxisScale.niceNumber(140, rounding: true), 100)
        XCTAssertEqual(AxisScale.niceNumber(8, rounding: true), 10)
    }

    func testLinearTicksAreRoundAndCoverTheData() {
        let scale = AxisScale.linear(minimum: 0.37, maximum: 4.61, tickCount: 5)
        XCTAssertEqual(scale.labels, ["0", "1", "2", "3", "4", "5"])
        XCTAssertLessThanOrEqual(scale.lower, 0.37)
        XCTAssertGreaterThanOrEqual(scale.upper, 4.61)
        XCTAssertEqual(AxisScale.linear(minimum: 0, maximum: 1200, tickCount: 7).labels,
                       ["0", "200", "400", "600", "800", "1000", "1200"])
        XCTAssertEqual(AxisScale.linear(minimum: 0.61, maximum: 0.93).labels,
                       ["0.6", "0.7", "0.8", "0.9", "1.0"])
        XCTAssertEqual(AxisScale.linear(minimum: 0, maximum: 250_000, tickCount: 6).labels,
                       ["0", "50k", "100k", "150k", "200k", "250k"])
        XCTAssertEqual(AxisScale.linear(minimum: -2, maximum: 2).labels.first, "−2")
    }

    func testFlatDataGetsARange() {
        let scale = AxisScale.linear(minimum: 3, maximum: 3)
        XCTAssertLessThan(scale.lower, 3)
        XCTAssertGreaterThan(scale.upper, 3)
        let zero = AxisScale.linear(minimum: 0, maximum: 0)
        XCTAssertEqual(zero.lower, -1)
        XCTAssertEqual(zero.upper, 1)
    }

    func testLogarithmicTicks() {
        let decades = AxisScale.logarithmic(minimum: 0.0023, maximum: 4.2)
        XCTAssertEqual(decades.labels, ["0.001", "0.01", "0.1", "1", "10"])
        let narrow = AxisScale.logarithmic(minimum: 0.4, maximum: 4.5)
        XCTAssertEqual(narrow.labels, ["0.2", "0.5", "1", "2", "5"])
        let veryNarrow = AxisScale.logarithmic(minimum: 2.12, maximum: 2.47)
        XCTAssertTrue(veryNarrow.isLogarithmic)
        XCTAssertGreaterThanOrEqual(veryNarrow.ticks.count, 3)
        XCTAssertLessThanOrEqual(veryNarrow.lower, 2.12)
        XCTAssertGreaterThanOrEqual(veryNarrow.upper, 2.47)
        let tiny = AxisScale.logarithmic(minimum: 1e-7, maximum: 1e-5)
        XCTAssertEqual(tiny.labels, ["10⁻⁷", "10⁻⁶", "10⁻⁵"])
        XCTAssertEqual(AxisScale.logarithmic(minimum: 3e-5, maximum: 4e-4).labels, ["2×10⁻⁵", "5×10⁻⁵", "10⁻⁴", "2×10⁻⁴", "5×10⁻⁴"])
        for scale in [decades, narrow, veryNarrow, tiny] {
            XCTAssertEqual(scale.ticks, scale.ticks.sorted())
            XCTAssertEqual(scale.fraction(scale.lower), 0, accuracy: 1e-12)
            XCTAssertEqual(scale.fraction(scale.upper), 1, accuracy: 1e-12)
        }
    }
}

extension ReportsAxisScaleTests {
    /// x axes span the data exactly and carry the round ticks inside it.
    func testTightAxisKeepsTheDataRange() {
        let steps = AxisScale.linear(minimum: 0, maximum: 1200, tickCount: 5, roundsOut: false)
        XCTAssertEqual([steps.lower, steps.upper], [0, 1200])
        XCTAssertEqual(steps.labels, ["0", "500", "1000"])
        let epochs = AxisScale.linear(minimum: 1, maximum: 6, tickCount: 5, roundsOut: false)
        XCTAssertEqual(epochs.labels, ["1", "2", "3", "4", "5", "6"])
        let narrow = AxisScale.linear(minimum: 0.13, maximum: 0.29, tickCount: 5, roundsOut: false)
        XCTAssertGreaterThanOrEqual(narrow.ticks.count, 3)
        XCTAssertTrue(narrow.ticks.allSatisfy { $0 >= 0.13 && $0 <= 0.29 })
    }

    /// One label style per axis: no "0.00010" beside "8e−5".
    func testTinyLinearValuesAllUseExponents() {
        let scale = AxisScale.linear(minimum: 0, maximum: 9.9e-5)
        XCTAssertEqual(scale.labels, ["0", "2e−5", "4e−5", "6e−5", "8e−5", "1e−4"])
        XCTAssertEqual(AxisScale.linear(minimum: 0, maximum: 0.0042).labels, ["0", "0.001", "0.002", "0.003", "0.004", "0.005"])
    }
}
