import Foundation

/// `download_summary.json`: the whole output folder's counts (every complete shard, from this
/// run and earlier ones) and this run's pace.
public struct DownloadSummary: Equatable, Sendable, Codable {
    public var list: String
    public var shards: Int
    public var rows: Int
    public var successes: Int
    /// Every reason, zero counts included, so a reader sees what was looked for.
    public var failures: [String: Int]
    public var httpStatuses: [String: Int]
    /// Rows this run fetched (rows of shards completed by an earlier run are not fetched again).
    public var rowsFetchedThisRun: Int
    public var shardsWrittenThisRun: Int
    public var seconds: Double
    public var samplesPerSecond: Double

    public var successRate: Double { rows == 0 ? 0 : Double(successes) / Double(rows) }

    public init(list: String, stats: [ShardStats], rowsFetchedThisRun: Int, shardsWrittenThisRun: Int,
                successesThisRun: Int, seconds: Double) {
        self.list = list
        shards = stats.count
        rows = stats.reduce(0) { $0 + $1.rows }
        successes = stats.reduce(0) { $0 + $1.successes }
        var failures = Dictionary(uniqueKeysWithValues: DownloadFailureReason.allCases.map { ($0.rawValue, 0) })
        var statuses: [String: Int] = [:]
        for shard in stats {
            for (reason, count) in shard.failures { failures[reason, default: 0] += count }
            for (code, count) in shard.httpStatuses { statuses[code, default: 0] += count }
        }
        self.failures = failures
        httpStatuses = statuses
        self.rowsFetchedThisRun = rowsFetchedThisRun
        self.shardsWrittenThisRun = shardsWrittenThisRun
        self.seconds = seconds
        samplesPerSecond = seconds > 0 ? Double(successesThisRun) / seconds : 0
    }

    /// A few lines for people.
    public var text: String {
        var lines = [String(format: "%d rows in %d shards: %d samples (%.1f%%), %d failed", rows, shards, successes,
                            100 * successRate, rows - successes)]
        lines.append(String(format: "this run: %d rows fetched, %d shards written, %.1f s, %.1f samples/s",
                            rowsFetchedThisRun, shardsWrittenThisRun, seconds, samplesPerSecond))
        for (reason, count) in failures.sorted(by: { $0.key < $1.key }) where count > 0 {
            var line = "  " + reason.padding(toLength: 14, withPad: " ", startingAt: 0) + " \(count)"
            if reason == DownloadFailureReason.httpStatus.rawValue {
                line += " (" + httpStatuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")"
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
