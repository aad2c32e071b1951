import XCTest
@testable import VLP

final class ReportsHTMLReportTests: TorchTestCase {
    private func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vlp-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testContainsEverySectionInOrder() throws {
        var report = HTMLReport(title: "R2D2 报告")
        report.addHeading("Training")
        report.addParagraph("first line\nsecond line")
        report.add(LineChart(title: "loss chart", xLabel: "step", yLabel: "loss",
                             series: [ReportSeries(name: "R2D2", values: [3.0, 2, 1])]))
        report.add(ReportTable(title: "results table", columns: ["model", "R@1"], rows: [["R2D2", "48.3"], ["PRD2"]]))
        report.addKeyValues("run facts", [("steps", "1200"), ("device", "cpu")])
        report.addHeading("Attention")
        try report.add(AttentionHeatmap(image: ReportFixtures.shapesImage(size: 16), weights: [1, 2, 3, 4],
                                        gridHeight: 2, gridWidth: 2, caption: "红色的方块", entity: "方块"))
        let html = report.html()

        XCTAssertTrue(html.hasPrefix("<!doctype html>"))
        XCTAssertTrue(html.contains("<meta charset=\"utf-8\">"))
        XCTAssertTrue(html.contains("<style>"))
        XCTAssertTrue(html.contains("\"Noto Sans CJK SC\""))
        XCTAssertTrue(html.contains("<title>R2D2 报告</title>"))
        let markers = ["<h1>R2D2 报告</h1>", "<nav class=\"contents\">", "<h2 id=\"section-1\">Training</h2>",
                       "<p>first line<br>second line</p>", "<svg", "loss chart", "<caption>results table</caption>",
                       "<td class=\"num\">48.3</td>", "<caption>run facts</caption>", "<th scope=\"row\">steps</th>",
                       "<h2 id=\"section-2\">Attention</h2>", "<figure class=\"heatmap\">", "红色的<mark>方块</mark>", "</html>"]
        var position = html.startIndex
        for marker in markers {
            let range = try XCTUnwrap(html.range(of: marker, range: position..<html.endIndex), "missing or out of order: \(marker)")
            position = range.upperBound
        }
        // Short table rows are padded.
        XCTAssertTrue(html.contains("<tr><td>PRD2</td><td></td></tr>"))
    }

    func testNothingIsFetched() throws {
        let html = try ReportFixtures.sampleReport().html()
        let sources = ReportFixtures.imageSources(in: html)
        XCTAssertEqual(sources.count, 4)
        for source in sources { XCTAssertTrue(source.hasPrefix("data:"), source) }
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains("<link"))
        XCTAssertFalse(html.contains("url("))
        XCTAssertFalse(html.contains("@import"))
        // The only "http" is the SVG namespace name, which is never fetched.
        let httpMentions = html.components(separatedBy: "http").count - 1
        XCTAssertEqual(httpMentions, html.components(separatedBy: "xmlns=\"http://www.w3.org/2000/svg\"").count - 1)
    }

    func testAllTextIsEscaped() {
        var report = HTMLReport(title: "<title>&")
        report.addHeading("<h2>")
        report.addParagraph("<script>alert(1)</script> & \"quotes\"")
        report.add(ReportTable(title: "<t>", columns: ["<c>"], rows: [["<b>bold</b> & \"x\""]]))
        report.addKeyValues("<kv>", [("<k>", "<v>")])
        let html = report.html()
        for raw in ["<title>&<", "<h2><", "<script>", "<t>", "<c>", "<b>", "<k>", "<v>", "<kv>"] {
            XCTAssertFalse(html.contains(raw), raw)
        }
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"))
        XCTAssertTrue(html.contains("<td>&lt;b&gt;bold&lt;/b&gt; &amp; &quot;x&quot;</td>"))
    }

    func testAtomicWriteLeavesOnlyTheReport() throws {
        let folder = try temporaryFolder()
        let url = folder.appendingPathComponent("report.html")
        var report = HTMLReport(title: "first")
        try report.write(to: url)
        report.addParagraph("中文段落")
        try report.write(to: url)   // replaces
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["report.html"])
        let written = try String(contentsOf: url, encoding: .utf8)
        XCTAssertEqual(written, report.html())
        XCTAssertTrue(written.contains("<p>中文段落</p>"))
        // A folder that does not exist yet is made.
        let nested = folder.appendingPathComponent("runs/r2d2/report.html")
        try report.write(to: nested)
        XCTAssertTrue(FileManager.default.fileExists(atPath: nested.path))
    }

    func testWriteToAnUnwritablePlaceThrows() throws {
        let folder = try temporaryFolder()
        let blocker = folder.appendingPathComponent("file")
        try Data("x".utf8).write(to: blocker)
        XCTAssertThrowsError(try HTMLReport(title: "t").write(to: blocker.appendingPathComponent("report.html")))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["file"])
    }

    /// Writes the sample report (to `$VLP_REPORT_SAMPLE` when set, for a look in a browser:
    /// `scripts/render-report.sh`), and checks its charts parse as XML.
    func testSampleReport() throws {
        let report = try ReportFixtures.sampleReport()
        let html = report.html()
        let charts = html.components(separatedBy: "<svg").dropFirst().map { "<svg" + $0.components(separatedBy: "</svg>")[0] + "</svg>" }
        XCTAssertEqual(charts.count, 3)
        for chart in charts { XCTAssertNoThrow(try ParsedXMLElement.parse(chart)) }
        if let path = ProcessInfo.processInfo.environment["VLP_REPORT_SAMPLE"], !path.isEmpty {
            try report.write(to: URL(fileURLWithPath: path))
        }
    }
}
