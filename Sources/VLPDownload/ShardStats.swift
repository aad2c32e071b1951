import Foundation

/// What happened to one row of the list.
public enum RowStatus: Equatable, Sendable, Codable {
    case success
    case failed(DownloadFailureReason)

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        if text == "success" { self = .success; return }
        guard let reason = DownloadFailureReason(rawValue: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown row status \"\(text)\""))
        }
        self = .failed(reason)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .success: try container.encode("success")
        case .failed(let reason): try container.encode(reason.rawValue)
        }
    }
}

/// The record of one row in its shard's stats: the outcome, and for a sample its key and hash.
public struct RowRecord: Equatable, Sendable, Codable {
    public var row: Int
    public var key: String
    public var url: String
    public var status: RowStatus
    public var httpStatus: Int?
    public var detail: String?
    /// SHA-256 of the body as fetched (before any resize), for samples.
    public var sha256: String?
    /// Whether a failure may go away when asked again (`--retry-failed` asks again).
    public var transient: Bool?

    public var failure: DownloadFailure? {
        guard case .failed(let reason) = status else { return nil }
        return DownloadFailure(reason, httpStatus: httpStatus, detail: detail ?? "")
    }
}

/// `NNNNNN_stats.json` beside shard `NNNNNN.tar`, written (atomically) after the shard: its
/// presence is what marks the shard complete, so a resumed run fetches none of its rows.
public struct ShardStats: Equatable, Sendable, Codable {
    public var shard: Int
    public var samplesPerShard: Int
    public var firstRow: Int
    public var rows: Int
    public var successes: Int
    /// Failures by reason (`DownloadFailureReason` raw values).
    public var failures: [String: Int]
    /// `http_status` failures by status code.
    public var httpStatuses: [String: Int]
    public var records: [RowRecord]

    public init(shard: Int, samplesPerShard: Int, firstRow: Int, records: [RowRecord]) {
        self.shard = shard
        self.samplesPerShard = samplesPerShard
        self.firstRow = firstRow
        self.rows = records.count
        self.records = records
        successes = records.filter { $0.status == .success }.count
        var failures: [String: Int] = [:], statuses: [String: Int] = [:]
        for record in records {
            guard case .failed(let reason) = record.status else { continue }
            failures[reason.rawValue, default: 0] += 1
            if let code = record.httpStatus { statuses[String(code), default: 0] += 1 }
        }
        self.failures = failures
        httpStatuses = statuses
    }

    public static func shardName(_ shard: Int) -> String { String(format: "%06d", shard) }
    public static func tarName(_ shard: Int) -> String { shardName(shard) + ".tar" }
    public static func statsName(_ shard: Int) -> String { shardName(shard) + "_stats.json" }

    /// The shard number of a stats file name, nil for other names.
    public static func shard(ofStatsName name: String) -> Int? {
        guard name.hasSuffix("_stats.json") else { return nil }
        let digits = name.dropLast("_stats.json".count)
        guard digits.count == 6, digits.allSatisfy(\.isASCII), let number = Int(digits) else { return nil }
        return number
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}
