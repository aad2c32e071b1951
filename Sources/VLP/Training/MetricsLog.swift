import Foundation

/// `metrics.jsonl`: one JSON object per line, appended as training goes (`{"step": 10,
/// "loss": 2.31, "gcpr": …, "lr": …, "pairs_per_second": …}`; evaluation lines carry
/// `"eval": {…}`). On resume the lines after the resumed step are dropped so the curve
/// continues without duplicates.
public final class MetricsLog {
    public let url: URL
    private let handle: FileHandle

    public init(url: URL, truncatingAfter step: Int? = nil) throws {
        self.url = url
        let fm = FileManager.default
        if let step, let existing = try? String(contentsOf: url, encoding: .utf8) {
            let kept = existing.split(separator: "\n").filter { line in
                guard let data = line.data(using: .utf8),
                      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                      let s = object["step"] as? Int else { return false }
                return s <= step
            }
            try Data((kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).utf8).write(to: url, options: .atomic)
        } else if step == nil || !fm.fileExists(atPath: url.path) {
            try Data().write(to: url)
        }
        guard let handle = FileHandle(forWritingAtPath: url.path) else {
            throw ConfigError("\(url.path): cannot open for appending")
        }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    deinit { try? handle.close() }

    public func append(_ record: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        handle.write(data + Data("\n".utf8))
    }

    /// Every record of a metrics file.
    public static func read(_ url: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }
}
