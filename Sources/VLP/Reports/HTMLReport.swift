import Foundation
import Torch

/// A single-file HTML report (training curves, result tables, attention maps) that opens offline:
/// inline CSS, inline SVG, images as `data:` URLs, no JavaScript, nothing fetched. Sections are
/// appended in order; all text is escaped.
public struct HTMLReport: Sendable {
    public var title: String
    /// Rendered sections, in order; consecutive charts and heat maps share a wrapping row.
    private var sections: [Section] = []

    private enum Section: Sendable {
        case block(String)
        case chart(String)
        case heatmap(String)
    }

    /// Chart size in the report: two (with borders and gap) fit side by side in the page's 1056 px column.
    static let chartWidth = 516, chartHeight = 300
    /// Headings so far, for the contents list (id, text).
    private var headings: [(id: String, text: String)] = []

    public init(title: String) {
        self.title = title
    }

    /// A section heading; with two or more, the report opens with a list of contents.
    public mutating func addHeading(_ text: String) {
        let id = "section-\(headings.count + 1)"
        headings.append((id, text))
        sections.append(.block("<h2 id=\"\(id)\">\(HTMLEscape.text(text))</h2>"))
    }

    /// A paragraph of plain text; line breaks are kept.
    public mutating func addParagraph(_ text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { HTMLEscape.text(String($0)) }
        sections.append(.block("<p>\(lines.joined(separator: "<br>"))</p>"))
    }

    public mutating func add(_ chart: LineChart) {
        sections.append(.chart("<figure class=\"chart\">\(chart.svg(width: Self.chartWidth, height: Self.chartHeight))</figure>"))
    }

    public mutating func add(_ table: ReportTable) {
        sections.append(.block("<div class=\"table-wrap\">\(table.html())</div>"))
    }

    /// Renders the heat map now (this is where its PNGs are encoded, hence `throws`).
    public mutating func add(_ heatmap: AttentionHeatmap) throws {
        sections.append(.heatmap(try heatmap.html()))
    }

    /// A titled two-column list (settings, run facts): key on the left, value on the right.
    public mutating func addKeyValues(_ title: String, _ pairs: [(String, String)]) {
        var out = "<table class=\"key-values\">\n"
        if !title.isEmpty { out += "<caption>\(HTMLEscape.text(title))</caption>\n" }
        out += "<tbody>\n"
        for (key, value) in pairs {
            out += "<tr><th scope=\"row\">\(HTMLEscape.text(key))</th><td>\(HTMLEscape.text(value))</td></tr>\n"
        }
        sections.append(.block(out + "</tbody>\n</table>"))
    }

    /// The whole document.
    public func html() -> String {
        var out = """
        <!doctype html>
        <html lang="zh-Hans">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="swift-vlp \(VLPVersion.string)">
        <title>\(HTMLEscape.text(title))</title>
        <style>
        \(Self.style)
        </style>
        </head>
        <body>
        <main>
        <h1>\(HTMLEscape.text(title))</h1>

        """
        if headings.count >= 2 {
            out += "<nav class=\"contents\"><ol>"
            for heading in headings {
                out += "<li><a href=\"#\(heading.id)\">\(HTMLEscape.text(heading.text))</a></li>"
            }
            out += "</ol></nav>\n"
        }
        var openRow: String? = nil   // the class of the row of figures being filled
        for section in sections {
            let (row, content): (String?, String)
            switch section {
            case .block(let html): (row, content) = (nil, html)
            case .chart(let html): (row, content) = ("charts", html)
            case .heatmap(let html): (row, content) = ("heatmaps", html)
            }
            if row != openRow {
                if openRow != nil { out += "</div>\n" }
                if let row { out += "<div class=\"\(row)\">\n" }
                openRow = row
            }
            out += content + "\n"
        }
        if openRow != nil { out += "</div>\n" }
        out += "<footer>swift-vlp \(HTMLEscape.text(VLPVersion.string))</footer>\n</main>\n</body>\n</html>\n"
        return out
    }

    /// Writes the document to `url` atomically: a temporary file beside it, then a rename, so a
    /// reader never sees half a report and a failed write leaves the old one in place.
    public func write(to url: URL) throws {
        try AtomicFile.write(Data(html().utf8), to: url)
    }

    /// The page style: readable line length, CJK-capable fonts, tabular figures in tables.
    static let style = """
    :root { color-scheme: light; }
    body { margin: 0; background: #f5f6f8; color: #1d1f23;
      font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif;
      font-size: 15px; line-height: 1.55; }
    main { max-width: 1120px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; min-height: 100vh; box-sizing: border-box; }
    h1 { font-size: 26px; margin: 8px 0 16px; padding-bottom: 8px; border-bottom: 2px solid #1f77b4; }
    h2 { font-size: 19px; margin: 32px 0 12px; padding-bottom: 4px; border-bottom: 1px solid #e3e5e8; }
    p { margin: 8px 0 12px; max-width: 80ch; }
    nav.contents { background: #f7f8fa; border: 1px solid #e3e5e8; border-radius: 6px; padding: 8px 16px; margin: 0 0 16px; display: inline-block; }
    nav.contents ol { margin: 0; padding-left: 20px; }
    nav.contents a { color: #1f5f99; text-decoration: none; }
    figure { margin: 12px 0 20px; }
    .charts, .heatmaps { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; margin: 12px 0 20px; }
    .heatmaps { gap: 32px; }
    figure.chart { margin: 0; max-width: 100%; }
    figure.chart svg { display: block; max-width: 100%; height: auto; border: 1px solid #e3e5e8; border-radius: 6px; }
    .table-wrap { overflow-x: auto; margin: 12px 0 20px; }
    table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
    caption { caption-side: top; text-align: left; font-weight: 600; padding: 4px 0 8px; }
    table.report-table th, table.report-table td { padding: 6px 12px; border-bottom: 1px solid #e3e5e8; text-align: left; white-space: nowrap; }
    table.report-table thead th { border-bottom: 2px solid #9aa0a6; background: #f7f8fa; }
    table.report-table tbody tr:nth-child(even) { background: #fafbfc; }
    table.report-table td.num { text-align: right; }
    table.key-values { margin: 12px 0 20px; }
    table.key-values th { text-align: left; font-weight: 500; color: #5f6368; padding: 3px 24px 3px 0; vertical-align: top; }
    table.key-values td { padding: 3px 0; font-family: ui-monospace, "Noto Sans Mono", "DejaVu Sans Mono", monospace; font-size: 14px; word-break: break-all; }
    figure.heatmap { margin: 0; max-width: 100%; }
    .heatmap-images { display: flex; gap: 12px; flex-wrap: wrap; }
    .heatmap-panel { display: flex; flex-direction: column; align-items: center; font-size: 12px; color: #5f6368; }
    .heatmap-panel img { image-rendering: pixelated; max-width: 384px; height: auto; border: 1px solid #d0d3d7; border-radius: 4px; }
    .colorbar { display: flex; align-items: center; gap: 6px; font-size: 12px; color: #5f6368; margin: 6px 0 2px; }
    .colorbar i { display: inline-block; width: 160px; height: 10px; border-radius: 2px; }
    figure.heatmap figcaption { margin-top: 6px; max-width: 60ch; }
    mark { background: #ffe066; padding: 0 2px; border-radius: 2px; }
    footer { margin-top: 40px; font-size: 12px; color: #8a8f96; }
    """
}
