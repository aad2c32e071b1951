import Foundation
import VLP

/// One URL a line; blank lines and lines starting with `#` are passed over.
final class PlainURLList: URLListReader {
    private let lines: LineReader
    private var row = 0

    init(path: String) throws {
        lines = try LineReader(path: path)
    }

    func next() throws -> URLListEntry? {
        while let line = try lines.nextLine() {
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            if text.isEmpty || text.hasPrefix("#") { continue }
            defer { row += 1 }
            return URLListEntry(row: row, url: text, texts: [])
        }
        return nil
    }
}
