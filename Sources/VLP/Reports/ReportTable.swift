import Foundation

/// A titled table of text cells (metrics per model, hyper-parameters). Every cell is escaped;
/// cells that read as numbers (`0.731`, `−2.5`, `87.3%`, `1.2e-3`, or a dash for none) are right-aligned in a
/// tabular-figure font so columns of results line up.
public struct ReportTable: Sendable, Equatable {
    public var title: String
    public var columns: [String]
    public var rows: [[String]]

    public init(title: String, columns: [String], rows: [[String]]) {
        self.title = title
        self.columns = columns
        self.rows = rows
    }

    /// The table as an HTML `<table>` with a `<caption>`; short rows are padded with empty cells.
    public func html() -> String {
        let width = max(columns.count, rows.map(\.count).max() ?? 0)
        var out = "<table class=\"report-table\">\n"
        if !title.isEmpty { out += "<caption>\(HTMLEscape.text(title))</caption>\n" }
        if !columns.isEmpty {
            out += "<thead><tr>"
            for index in 0..<width {
                let name = index < columns.count ? columns[index] : ""
                out += "<th scope=\"col\">\(HTMLEscape.text(name))</th>"
            }
            out += "</tr></thead>\n"
        }
        out += "<tbody>\n"
        for row in rows {
            out += "<tr>"
            for index in 0..<width {
                let cell = index < row.count ? row[index] : ""
                let numeric = Self.isNumeric(cell) ? " class=\"num\"" : ""
                out += "<td\(numeric)>\(HTMLEscape.text(cell))</td>"
            }
            out += "</tr>\n"
        }
        return out + "</tbody>\n</table>"
    }

    /// Whether a cell reads as a number, optionally signed, with a % or ± part (`81.2 ± 0.4`).
    static func isNumeric(_ cell: String) -> Bool {
        let trimmed = cell.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return false }
        // Placeholders for a missing number sit where the number would.
        if ["—", "–", "-", "n/a", "N/A", "NaN", "nan"].contains(trimmed) { return true }
        let parts = trimmed.split(separator: "±").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count <= 2 else { return false }
        return parts.allSatisfy { part in
            var text = Substring(part)
            if text.hasSuffix("%") { text = text.dropLast() }
            if text.hasPrefix("−") { text = "-" + text.dropFirst() }
            return !text.isEmpty && Double(text) != nil
        }
    }
}
