import Foundation

/// A line chart of one or more series, rendered as a self-contained inline `<svg>`: title, legend,
/// axes with round-numbered ticks and grid lines, axis labels, one colour per series. Points with
/// a NaN or infinite coordinate (and, on a logarithmic y axis, y ≤ 0) are skipped: the line breaks
/// there. A chart with nothing to draw says "no data".
public struct LineChart: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [ReportSeries]
    public var logY: Bool

    public init(title: String, xLabel: String, yLabel: String, series: [ReportSeries], logY: Bool = false) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.logY = logY
    }

    /// Series colours (Tableau 10, distinguishable and print-safe); after ten, colours repeat dashed.
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    static let fontFamily = "'Noto Sans', 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif"

    /// The chart as an `<svg>` element of `width`×`height` user units (it scales with CSS).
    public func svg(width: Int = 640, height: Int = 320) -> String {
        let width = max(width, 160), height = max(height, 120)
        let drawable = series.map(drawablePoints)
        let fontSize = 12.0, tickFontSize = 11.0

        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
        out += "viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(HTMLEscape.text(title))\" "
        out += "font-family=\"\(Self.fontFamily)\" font-size=\"\(fmt(fontSize))\">\n"
        out += "<title>\(HTMLEscape.text(title))</title>\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>\n"
        // A long title shrinks (down to 11) and then is cut with an ellipsis; <title> keeps it whole.
        var shownTitle = title, titleSize = 15.0
        let room = Double(width) - 24
        titleSize = max(11, min(15, 15 * room / max(1, Self.textWidth(title, fontSize: 15) * 1.1)))
        while Self.textWidth(shownTitle, fontSize: titleSize) * 1.1 > room && shownTitle.count > 1 {
            shownTitle = String(shownTitle.dropLast(2)) + "…"
        }
        out += "<text x=\"\(fmt(Double(width) / 2))\" y=\"20\" text-anchor=\"middle\" font-size=\"\(fmt(titleSize))\" font-weight=\"600\" fill=\"#222\">\(HTMLEscape.text(shownTitle))</text>\n"

        // Legend: a row of swatches under the title, wrapping to more rows when needed.
        var legend = ""
        var legendX = 0.0, legendRow = 0
        let legendLeft = 56.0, legendRight = Double(width) - 16, rowHeight = 18.0, legendTop = 38.0
        var legendItems: [(x: Double, row: Int, index: Int)] = []
        for (index, item) in series.enumerated() {
            let label = item.name + (drawable[index].count == 0 ? " (no data)" : "")
            let itemWidth = 26 + Self.textWidth(label, fontSize: fontSize) + 18
            if legendX > 0 && legendLeft + legendX + itemWidth > legendRight {
                legendRow += 1
                legendX = 0
            }
            legendItems.append((legendLeft + legendX, legendRow, index))
            legendX += itemWidth
        }
        for (x, row, index) in legendItems {
            let y = legendTop + Double(row) * rowHeight
            let label = series[index].name + (drawable[index].count == 0 ? " (no data)" : "")
            legend += "<line x1=\"\(fmt(x))\" y1=\"\(fmt(y - 4))\" x2=\"\(fmt(x + 20))\" y2=\"\(fmt(y - 4))\" stroke=\"\(color(index))\" stroke-width=\"2.5\"\(dash(index))/>"
            legend += "<text x=\"\(fmt(x + 25))\" y=\"\(fmt(y))\" fill=\"#333\">\(HTMLEscape.text(label))</text>\n"
        }
        let legendRows = legendItems.isEmpty ? 0 : legendRow + 1

        let allPoints = drawable.flatMap { $0.flatMap { $0 } }
        guard !allPoints.isEmpty else {
            let top = legendTop + Double(legendRows) * rowHeight
            out += legend
            out += "<rect x=\"16\" y=\"\(fmt(top))\" width=\"\(width - 32)\" height=\"\(fmt(max(20, Double(height) - top - 16)))\" fill=\"none\" stroke=\"#bbb\" stroke-dasharray=\"4 4\"/>\n"
            out += "<text x=\"\(fmt(Double(width) / 2))\" y=\"\(fmt((top + Double(height) - 16) / 2 + 5))\" text-anchor=\"middle\" font-size=\"14\" fill=\"#888\">no data</text>\n"
            return out + "</svg>"
        }

        // Scales from the drawable points only.
        let xs = allPoints.map(\.x), ys = allPoints.map(\.y)
        let xTickTarget = max(3, min(8, width / 90))
        let yTickTarget = max(3, min(6, height / 60))
        let xScale = AxisScale.linear(minimum: xs.min()!, maximum: xs.max()!, tickCount: xTickTarget, roundsOut: false)
        let yScale = logY ? AxisScale.logarithmic(minimum: ys.min()!, maximum: ys.max()!)
                          : AxisScale.linear(minimum: ys.min()!, maximum: ys.max()!, tickCount: yTickTarget)

        // Plot area: room on the left for the widest y label and the rotated axis title.
        let yLabelWidth = yScale.labels.map { Self.textWidth($0, fontSize: tickFontSize) }.max() ?? 0
        let left = (yLabel.isEmpty ? 10.0 : 28.0) + yLabelWidth + 8
        let lastXLabelHalf = Self.textWidth(xScale.labels.last ?? "", fontSize: tickFontSize) / 2
        let right = Double(width) - max(16, lastXLabelHalf + 4)
        let top = legendTop + Double(legendRows) * rowHeight - 4
        let bottom = Double(height) - (xLabel.isEmpty ? 26 : 44)
        let plotWidth = max(right - left, 10), plotHeight = max(bottom - top, 10)
        func px(_ x: Double) -> Double { left + xScale.fraction(x) * plotWidth }
        func py(_ y: Double) -> Double { bottom - yScale.fraction(y) * plotHeight }

        // Grid and ticks.
        out += "<g stroke=\"#e6e6e6\" stroke-width=\"1\">"
        for tick in xScale.ticks { out += "<line x1=\"\(fmt(px(tick)))\" y1=\"\(fmt(top))\" x2=\"\(fmt(px(tick)))\" y2=\"\(fmt(bottom))\"/>" }
        for tick in yScale.ticks { out += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(py(tick)))\" x2=\"\(fmt(right))\" y2=\"\(fmt(py(tick)))\"/>" }
        out += "</g>\n"
        out += "<g stroke=\"#555\" stroke-width=\"1\">"
        out += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(bottom))\" x2=\"\(fmt(right))\" y2=\"\(fmt(bottom))\"/>"
        out += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(top))\" x2=\"\(fmt(left))\" y2=\"\(fmt(bottom))\"/>"
        for tick in xScale.ticks { out += "<line x1=\"\(fmt(px(tick)))\" y1=\"\(fmt(bottom))\" x2=\"\(fmt(px(tick)))\" y2=\"\(fmt(bottom + 4))\"/>" }
        for tick in yScale.ticks { out += "<line x1=\"\(fmt(left - 4))\" y1=\"\(fmt(py(tick)))\" x2=\"\(fmt(left))\" y2=\"\(fmt(py(tick)))\"/>" }
        out += "</g>\n"
        out += "<g class=\"x-ticks\" font-size=\"\(fmt(tickFontSize))\" fill=\"#444\" text-anchor=\"middle\">"
        for (tick, label) in zip(xScale.ticks, xScale.labels) {
            out += "<text x=\"\(fmt(px(tick)))\" y=\"\(fmt(bottom + 16))\">\(HTMLEscape.text(label))</text>"
        }
        out += "</g>\n"
        out += "<g class=\"y-ticks\" font-size=\"\(fmt(tickFontSize))\" fill=\"#444\" text-anchor=\"end\">"
        for (tick, label) in zip(yScale.ticks, yScale.labels) {
            out += "<text x=\"\(fmt(left - 7))\" y=\"\(fmt(py(tick) + 4))\">\(HTMLEscape.text(label))</text>"
        }
        out += "</g>\n"
        if !xLabel.isEmpty {
            out += "<text x=\"\(fmt((left + right) / 2))\" y=\"\(fmt(Double(height) - 8))\" text-anchor=\"middle\" fill=\"#333\">\(HTMLEscape.text(xLabel))</text>\n"
        }
        if !yLabel.isEmpty {
            let cy = (top + bottom) / 2
            out += "<text x=\"14\" y=\"\(fmt(cy))\" text-anchor=\"middle\" fill=\"#333\" transform=\"rotate(-90 14 \(fmt(cy)))\">\(HTMLEscape.text(yLabel + (logY ? " (log)" : "")))</text>\n"
        }
        out += legend

        // Series: one path each (a new subpath after every skipped point), markers when sparse.
        for (index, points) in drawable.enumerated() where !points.isEmpty {
            let runs = thinned(points, columns: Int(plotWidth))
            var d = ""
            for run in runs {
                for (k, p) in run.enumerated() {
                    d += (k == 0 ? (d.isEmpty ? "M" : " M") : " L") + "\(fmt(px(p.x))) \(fmt(py(p.y)))"
                }
            }
            out += "<path class=\"series\" data-series=\"\(HTMLEscape.text(series[index].name))\" d=\"\(d)\" fill=\"none\" stroke=\"\(color(index))\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"\(dash(index))/>\n"
            let count = points.reduce(0) { $0 + $1.count }
            if count <= 40 {
                out += "<g fill=\"\(color(index))\">"
                for run in points { for p in run { out += "<circle cx=\"\(fmt(px(p.x)))\" cy=\"\(fmt(py(p.y)))\" r=\"2.8\"/>" } }
                out += "</g>\n"
            }
        }
        return out + "</svg>"
    }

    // MARK: - Points

    /// The series' drawable points as runs between skipped points.
    private func drawablePoints(_ series: ReportSeries) -> [[(x: Double, y: Double)]] {
        var runs: [[(x: Double, y: Double)]] = []
        var run: [(x: Double, y: Double)] = []
        for (x, y) in zip(series.xs, series.ys) {
            if x.isFinite && y.isFinite && (!logY || y > 0) {
                run.append((x, y))
            } else if !run.isEmpty {
                runs.append(run)
                run = []
            }
        }
        if !run.isEmpty { runs.append(run) }
        return runs
    }

    /// Long runs reduced to the first, lowest, highest and last point of each of about `columns`
    /// x buckets, so a 100k-step loss curve stays a few kilobytes and looks the same.
    private func thinned(_ runs: [[(x: Double, y: Double)]], columns: Int) -> [[(x: Double, y: Double)]] {
        runs.map { run in
            guard run.count > 4 * max(columns, 1), let minX = run.map(\.x).min(), let maxX = run.map(\.x).max(), maxX > minX else {
                return run
            }
            var out: [(x: Double, y: Double)] = []
            var bucket: [(x: Double, y: Double)] = []
            var currentColumn = -1
            func flush() {
                guard let first = bucket.first, let last = bucket.last else { return }
                let low = bucket.min { $0.y < $1.y }!, high = bucket.max { $0.y < $1.y }!
                var keep = [first, low, high, last]
                keep.sort { $0.x < $1.x }
                for p in keep where out.last.map({ $0.x != p.x || $0.y != p.y }) ?? true { out.append(p) }
                bucket.removeAll(keepingCapacity: true)
            }
            for p in run {
                let column = Int((p.x - minX) / (maxX - minX) * Double(columns))
                if column != currentColumn { flush(); currentColumn = column }
                bucket.append(p)
            }
            flush()
            return out
        }
    }

    // MARK: - Drawing helpers

    private func color(_ index: Int) -> String { Self.palette[index % Self.palette.count] }

    private func dash(_ index: Int) -> String {
        index < Self.palette.count ? "" : " stroke-dasharray=\"6 3\""
    }

    /// An estimate of a label's rendered width: CJK and other wide characters one em, the rest
    /// about 0.6 em (there is no font measurement without a browser).
    static func textWidth(_ text: String, fontSize: Double) -> Double {
        var ems = 0.0
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x1100...0x115F, 0x2E80...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x20000...0x3FFFD:
                ems += 1
            case 0x20, 0x2E, 0x2C, 0x3A, 0x3B, 0x69, 0x6C, 0x49, 0x7C, 0x27, 0x28, 0x29:
                ems += 0.32
            default:
                ems += 0.6
            }
        }
        return ems * fontSize
    }
}

/// A coordinate with one decimal, no trailing ".0" (SVG output stays short and stable).
fileprivate func fmt(_ value: Double) -> String {
    let rounded = (value * 10).rounded() / 10
    if rounded == rounded.rounded() { return String(Int(rounded)) }
    return String(format: "%.1f", rounded)
}
