import XCTest
@testable import VLP

final class ReportsLineChartTests: TorchTestCase {
    private func losses(_ n: Int, scale: Double) -> [Double] {
        (0..<n).map { scale * exp(-Double($0) / 40) + 0.3 }
    }

    func testSVGIsWellFormedXMLWithOnePathPerNonEmptySeries() throws {
        let chart = LineChart(title: "loss", xLabel: "step", yLabel: "loss", series: [
            ReportSeries(name: "R2D2", values: losses(200, scale: 4)),
            ReportSeries(name: "PRD2", values: losses(200, scale: 3)),
            ReportSeries(name: "empty", points: []),
            ReportSeries(name: "all NaN", values: [Double.nan, .nan, .infinity]),
        ])
        let root = try ParsedXMLElement.parse(chart.svg())
        XCTAssertEqual(root.name, "svg")
        let paths = root.all.filter { $0.name == "path" || $0.name == "polyline" }
        XCTAssertEqual(paths.map { $0.attributes["data-series"] }, ["R2D2", "PRD2"])
        XCTAssertEqual(Set(paths.compactMap { $0.attributes["stroke"] }).count, 2, "one colour per series")
        // Legend names every series, saying which have nothing to draw.
        let text = root.all.filter { $0.name == "text" }.map(\.allText)
        XCTAssertTrue(text.contains("R2D2"))
        XCTAssertTrue(text.contains("all NaN (no data)"))
    }

    func testNaNAndInfinitePointsAreSkipped() throws {
        var ys = losses(50, scale: 2)
        ys[20] = .nan
        ys[30] = -.infinity
        let chart = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [ReportSeries(name: "s", values: ys)])
        let svg = chart.svg()
        XCTAssertFalse(svg.lowercased().contains("nan"))
        XCTAssertFalse(svg.lowercased().contains("inf"))
        let path = try XCTUnwrap(ParsedXMLElement.parse(svg).all.first { $0.name == "path" })
        let d = try XCTUnwrap(path.attributes["d"])
        XCTAssertEqual(d.filter { $0 == "M" }.count, 3, "the line breaks at each skipped point")
        XCTAssertEqual(d.filter { $0 == "L" }.count, 50 - 2 - 3)
    }

    func testTicksAreMonotonicAndEverythingIsInsideTheViewBox() throws {
        let width = 640, height = 320
        let chart = LineChart(title: "R@M", xLabel: "epoch", yLabel: "%", series: [
            ReportSeries(name: "a", points: [(1, 41.2), (2, 55), (3, 61.8), (4, 65.3)]),
            ReportSeries(name: "b", points: [(1, 38), (2, 49.5), (3, 55.1), (4, 58.2), (5, 60.4)]),
        ])
        let root = try ParsedXMLElement.parse(chart.svg(width: width, height: height))
        XCTAssertEqual(root.attributes["viewBox"], "0 0 \(width) \(height)")

        let xTicks = try XCTUnwrap(root.all.first { $0.attributes["class"] == "x-ticks" }).children
        let yTicks = try XCTUnwrap(root.all.first { $0.attributes["class"] == "y-ticks" }).children
        XCTAssertGreaterThanOrEqual(xTicks.count, 3)
        XCTAssertGreaterThanOrEqual(yTicks.count, 3)
        let xPositions = xTicks.compactMap { Double($0.attributes["x"] ?? "") }
        let yPositions = yTicks.compactMap { Double($0.attributes["y"] ?? "") }
        let xValues = xTicks.compactMap { Double($0.text.replacingOccurrences(of: "−", with: "-")) }
        let yValues = yTicks.compactMap { Double($0.text.replacingOccurrences(of: "−", with: "-")) }
        XCTAssertEqual(xValues.count, xTicks.count, "tick labels are plain numbers: \(xTicks.map(\.text))")
        XCTAssertEqual(yValues.count, yTicks.count, "tick labels are plain numbers: \(yTicks.map(\.text))")
        XCTAssertEqual(xPositions, xPositions.sorted(), "x ticks go left to right")
        XCTAssertEqual(xValues, xValues.sorted())
        XCTAssertEqual(yPositions, yPositions.sorted(by: >), "y ticks go bottom to top")
        XCTAssertEqual(yValues, yValues.sorted())
        XCTAssertLessThanOrEqual(yValues.first!, 38)
        XCTAssertGreaterThanOrEqual(yValues.last!, 65.3)
        // Round steps: every gap between tick values is the same 1, 2 or 5 × 10^k.
        for values in [xValues, yValues] {
            let steps = zip(values.dropFirst(), values).map { $0 - $1 }
            for step in steps { XCTAssertEqual(step, steps[0], accuracy: 1e-9) }
            let mantissa = steps[0] / pow(10, log10(steps[0]).rounded(.down))
            XCTAssertTrue([1, 2, 5].contains { abs($0 - mantissa) < 1e-9 }, "step \(steps[0])")
        }

        // Every coordinate, in attributes and in path data, lies inside the view box.
        for node in root.all {
            for key in ["x", "x1", "x2", "cx"] {
                if let v = node.attributes[key].flatMap(Double.init) { XCTAssert((0...Double(width)).contains(v), "\(node.name) \(key)=\(v)") }
            }
            for key in ["y", "y1", "y2", "cy"] {
                if let v = node.attributes[key].flatMap(Double.init) { XCTAssert((0...Double(height)).contains(v), "\(node.name) \(key)=\(v)") }
            }
            if node.name == "path", let d = node.attributes["d"] {
                let numbers = d.split { " ML".contains($0) }.compactMap { Double($0) }
                XCTAssertEqual(numbers.count % 2, 0)
                for pair in stride(from: 0, to: numbers.count, by: 2) {
                    XCTAssert((0...Double(width)).contains(numbers[pair]), "path x \(numbers[pair])")
                    XCTAssert((0...Double(height)).contains(numbers[pair + 1]), "path y \(numbers[pair + 1])")
                }
            }
        }
    }

    func testTextIsEscaped() throws {
        let title = "loss <R2D2> & \"PRD2\" 's"
        let chart = LineChart(title: title, xLabel: "a<b", yLabel: "c&d", series: [
            ReportSeries(name: "x<y>&\"z\"", values: [1.0, 2, 3]),
        ])
        let svg = chart.svg()
        XCTAssertFalse(svg.contains("<R2D2>"))
        let root = try ParsedXMLElement.parse(svg)
        let texts = root.all.filter { $0.name == "text" || $0.name == "title" }.map(\.allText)
        XCTAssertTrue(texts.contains(title))
        XCTAssertTrue(texts.contains("a<b"))
        XCTAssertTrue(texts.contains("c&d"))
        XCTAssertTrue(texts.contains("x<y>&\"z\""))
        XCTAssertEqual(root.attributes["aria-label"], title)
    }

    func testEmptyChartSaysNoData() throws {
        for series in [[], [ReportSeries(name: "a", points: [])], [ReportSeries(name: "b", values: [Double.nan])]] {
            let root = try ParsedXMLElement.parse(LineChart(title: "t", xLabel: "x", yLabel: "y", series: series).svg())
            XCTAssertTrue(root.all.contains { $0.name == "text" && $0.text == "no data" })
            XCTAssertFalse(root.all.contains { $0.name == "path" })
        }
    }

    func testLogarithmicYSkipsNonPositiveValuesAndUsesDecades() throws {
        let chart = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [
            ReportSeries(name: "s", values: [5.0, 0.8, 0.0, 0.05, -1, 0.004]),
        ], logY: true)
        let root = try ParsedXMLElement.parse(chart.svg())
        let yTicks = try XCTUnwrap(root.all.first { $0.attributes["class"] == "y-ticks" }).children.map(\.text)
        XCTAssertEqual(yTicks, ["0.001", "0.01", "0.1", "1", "10"])
        let d = try XCTUnwrap(root.all.first { $0.name == "path" }?.attributes["d"])
        XCTAssertEqual(d.filter { $0 == "M" }.count, 3)
        XCTAssertTrue(root.all.contains { $0.name == "text" && $0.text == "y (log)" })
    }

    func testSinglePointAndFlatSeriesDraw() throws {
        let root = try ParsedXMLElement.parse(LineChart(title: "t", xLabel: "x", yLabel: "y", series: [
            ReportSeries(name: "one", points: [(3, 7)]),
            ReportSeries(name: "flat", points: [(3, 7), (3, 7)]),
        ]).svg())
        XCTAssertEqual(root.all.filter { $0.name == "path" }.count, 2)
        XCTAssertEqual(root.all.filter { $0.name == "circle" }.count, 3, "sparse series get markers")
    }

    /// A 100k-step curve is drawn from per-pixel minima and maxima, not 100k points.
    func testLongSeriesAreThinned() throws {
        let ys = (0..<100_000).map { 3 * exp(-Double($0) / 20_000) + 0.2 * sin(Double($0)) }
        let svg = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [ReportSeries(name: "s", values: ys)]).svg()
        XCTAssertLessThan(svg.utf8.count, 60_000)
        let d = try XCTUnwrap(ParsedXMLElement.parse(svg).all.first { $0.name == "path" }?.attributes["d"])
        XCTAssertGreaterThan(d.filter { $0 == "L" }.count, 500)
    }

    func testSeriesFromMismatchedArraysThrows() {
        XCTAssertThrowsError(try ReportSeries(name: "s", xs: [1, 2], ys: [1])) { error in
            XCTAssertEqual(error as? ReportError, .seriesLengthMismatch(name: "s", xCount: 2, yCount: 1))
        }
        var series = try! ReportSeries(name: "s", xs: [1, 2], ys: [3, 4])
        series.append(x: 3, y: 5)
        XCTAssertEqual(series.points.map(\.y), [3, 4, 5])
    }
}

extension ReportsLineChartTests {
    /// A title wider than the chart is shrunk and cut; the full title stays in <title>.
    func testLongTitleFitsTheWidth() throws {
        let title = String(repeating: "很长的标题 a very long title ", count: 8)
        let root = try ParsedXMLElement.parse(LineChart(title: title, xLabel: "", yLabel: "",
                                                        series: [ReportSeries(name: "s", values: [1.0, 2])]).svg(width: 400))
        XCTAssertEqual(root.all.first { $0.name == "title" }?.text, title)
        let shown = try XCTUnwrap(root.all.first { $0.name == "text" && $0.attributes["font-weight"] == "600" })
        XCTAssertTrue(shown.text.hasSuffix("…"))
        let size = try XCTUnwrap(Double(shown.attributes["font-size"] ?? ""))
        XCTAssertLessThanOrEqual(LineChart.textWidth(shown.text, fontSize: size), 400)
    }
}
