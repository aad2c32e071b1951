import Foundation
import VLP

/// The URL-list layouts `vlp data download` reads. Parquet (LAION, COYO) is converted to CSV or
/// jsonl first with a one-line pyarrow command (README, "From URLs to a pretraining run"):
/// linking Apache Arrow's C++ library for a metadata column reader was judged not worth its
/// weight here.
public enum URLListFormat: String, CaseIterable, Sendable {
    /// Zero-style jsonl: `url` (or `image_url`) plus the `title`/`content`/`query`/`text`/`texts`
    /// fields `ZeroJSONL` reads, and an optional `id`.
    case jsonl
    /// Comma-separated values with a header row naming the URL and caption columns.
    case csv
    /// Tab-separated values with a header row.
    case tsv
    /// One URL a line, no texts.
    case text

    /// The format a file name implies: `.jsonl`, `.csv`, `.tsv`, `.txt`; nil otherwise.
    public static func detect(path: String) -> URLListFormat? {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "jsonl": return .jsonl
        case "csv": return .csv
        case "tsv": return .tsv
        case "txt": return .text
        default: return nil
        }
    }

    /// Column names for the delimited formats.
    public struct Columns: Sendable {
        public var url: String
        /// Caption columns, each giving one caption text of the sample (empty cells skipped).
        public var captions: [String]

        public init(url: String = "url", captions: [String] = ["caption"]) {
            self.url = url
            self.captions = captions
        }
    }

    /// A reader over `path` in this format.
    public func open(_ path: String, columns: Columns = Columns()) throws -> URLListReader {
        switch self {
        case .jsonl: return try ZeroURLList(path: path)
        case .csv: return try DelimitedURLList(path: path, delimiter: ",", columns: columns)
        case .tsv: return try DelimitedURLList(path: path, delimiter: "\t", columns: columns)
        case .text: return try PlainURLList(path: path)
        }
    }

    /// Opens `path` in `format`, or in the format its name implies; a parquet file is an error
    /// that says how to convert it.
    public static func open(_ path: String, format: URLListFormat?, columns: Columns = Columns()) throws -> URLListReader {
        guard FileManager.default.fileExists(atPath: path) else { throw DatasetError.fileNotFound(path) }
        if format == nil && URL(fileURLWithPath: path).pathExtension.lowercased() == "parquet" {
            throw DatasetError.invalidArgument("""
                \(path): parquet is read through a conversion to CSV first, for example
                  python3 -c 'import pyarrow.parquet as pq, pyarrow.csv as pc; pc.write_csv(pq.read_table("\(path)", columns=["URL", "TEXT"]), "list.csv")'
                then: vlp data download list.csv --url-column URL --caption-column TEXT …
                """)
        }
        guard let chosen = format ?? detect(path: path) else {
            throw DatasetError.invalidArgument("\(path): cannot tell the URL list format from the name; pass --format (\(allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return try chosen.open(path, columns: columns)
    }
}
