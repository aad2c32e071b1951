import Foundation
import Torch
import VLP

/// What became of one row, ready to be written in row order.
enum RowOutcome: Sendable {
    /// A fresh image, its body's hash.
    case image(AdmittedImage, sha256: String)
    case failure(DownloadFailure)
    /// A sample of an earlier run kept as it was (`--retry-failed` rewriting its shard).
    case kept(RowRecord, members: [TarMember])
    /// A failure of an earlier run that is not asked again (not transient).
    case keptFailure(RowRecord)
}

/// Writes rows, in row order, into WebDataset shards of `samplesPerShard` rows each: shard
/// `k` holds rows `k·N ..< (k+1)·N` (its failures leave it shorter), each sample as `KEY.EXT`
/// + `KEY.json` + `KEY.txt` with KEY the row number in nine digits. Exact duplicates of an
/// earlier row's body are dropped here, where rows arrive in list order, so which copy is kept
/// does not depend on which fetch finished first. A shard is written under a temporary name
/// and renamed when whole; its `_stats.json` follows, marking it complete.
final class ShardAssembler {
    let folder: String
    let samplesPerShard: Int
    private var seen: [String: Int]               // body hash → the row that has it
    private var shard: Int?
    private var tar: TarWriter?
    private var records: [RowRecord] = []
    private(set) var written: [ShardStats] = []

    init(folder: String, samplesPerShard: Int, seenHashes: [String: Int]) {
        self.folder = folder
        self.samplesPerShard = samplesPerShard
        seen = seenHashes
    }

    static func key(row: Int) -> String { String(format: "%09d", row) }

    /// Adds the next row (rows come in increasing order); returns whether it became a sample.
    @discardableResult
    func add(_ entry: URLListEntry, _ outcome: RowOutcome) throws -> Bool {
        let shardOfRow = entry.row / samplesPerShard
        if shard != shardOfRow {
            try finishShard()
            shard = shardOfRow
            tar = try TarWriter(path: folder + "/" + ShardStats.tarName(shardOfRow))
        }
        guard let tar else { return false }
        let key = Self.key(row: entry.row)
        switch outcome {
        case .image(let image, let sha256):
            if let earlier = seen[sha256], earlier != entry.row {
                records.append(RowRecord(row: entry.row, key: key, url: entry.url, status: .failed(.duplicate),
                                         detail: "the same bytes as row \(earlier)", sha256: sha256, transient: false))
                return false
            }
            seen[sha256] = entry.row
            let sample = Sample(id: entry.id ?? key, image: .encoded(image.bytes), texts: entry.texts)
            let metadata: [String: Any] = [
                "url": entry.url, "row": entry.row, "status": "success", "sha256": sha256,
                "original_width": image.originalWidth, "original_height": image.originalHeight,
                "width": image.width, "height": image.height,
            ]
            for member in try WebDataset.members(key: key, sample: sample, imageBytes: image.bytes, metadata: metadata) {
                try tar.add(name: member.name, data: member.data)
            }
            records.append(RowRecord(row: entry.row, key: key, url: entry.url, status: .success, sha256: sha256))
            return true
        case .failure(let failure):
            records.append(RowRecord(row: entry.row, key: key, url: entry.url, status: .failed(failure.reason),
                                     httpStatus: failure.httpStatus, detail: failure.detail.isEmpty ? nil : failure.detail,
                                     transient: failure.isTransient))
            return false
        case .kept(let record, let members):
            for member in members { try tar.add(name: member.name, data: member.data) }
            records.append(record)
            return true
        case .keptFailure(let record):
            records.append(record)
            return false
        }
    }

    /// Completes the shard being written: the tar moves into place, then its stats.
    func finishShard() throws {
        guard let shard, let tar else { return }
        try tar.finish()
        let stats = ShardStats(shard: shard, samplesPerShard: samplesPerShard, firstRow: shard * samplesPerShard, records: records)
        try AtomicFile.write(try ShardStats.encoder.encode(stats), to: folder + "/" + ShardStats.statsName(shard))
        written.append(stats)
        self.shard = nil
        self.tar = nil
        records = []
    }
}
