import CSV
import Foundation
import VLP

/// CSV or TSV URL lists with a header row (RFC 4180 quoting, through CSV.swift): the URL in the
/// column named `columns.url`, a caption in each of `columns.captions` (empty cells skipped).
final class DelimitedURLList: URLListReader {
    private let path: String
    private let reader: CSVReader
    private let urlIndex: Int
    private let captionIndices: [Int]
    private var row = 0

    init(path: String, delimiter: UnicodeScalar, columns: URLListFormat.Columns) throws {
        guard let stream = InputStream(fileAtPath: path) else { throw DatasetError.unreadable(path, reason: "cannot open") }
        do {
            reader = try CSVReader(stream: stream, hasHeaderRow: true, delimiter: delimiter)
        } catch {
            throw DatasetError.unreadable(path, reason: "no header row: \(error)")
        }
        let header = reader.headerRow ?? []
        func index(of name: String, option: String) throws -> Int {
            guard let found = header.firstIndex(of: name) else {
                throw DatasetError.invalidArgument("\(path): no column \"\(name)\" (\(option)); the header names \(header.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
            return found
        }
        self.path = path
        urlIndex = try index(of: columns.url, option: "--url-column")
        captionIndices = try columns.captions.map { try index(of: $0, option: "--caption-column") }
    }

    func next() throws -> URLListEntry? {
        while let fields = reader.next() {
            if fields.count == 1 && fields[0].isEmpty { continue }       // a blank line
            guard fields.indices.contains(urlIndex) else {
                throw DatasetError.invalidArgument("\(path): row \(row + 1) has \(fields.count) fields, no URL column")
            }
            let texts = captionIndices.compactMap { index -> SampleText? in
                guard fields.indices.contains(index) else { return nil }
                let caption = fields[index]
                return caption.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : SampleText(caption)
            }
            defer { row += 1 }
            return URLListEntry(row: row, url: fields[urlIndex].trimmingCharacters(in: .whitespaces), texts: texts)
        }
        // CSV.swift reads through an InputStream whose `hasBytesAvailable` stays true at the end
        // of a file on Linux, so a clean end shows as `cannotReadFile` (its "read 0 bytes");
        // a failed read is `streamErrorHasOccurred`, and that one is thrown.
        if let error = reader.error {
            if case CSVError.cannotReadFile = error { return nil }
            throw DatasetError.unreadable(path, reason: "\(error)")
        }
        return nil
    }
}
