import Foundation
import Torch
import VLP

/// `vlp data download`: a URL list to WebDataset shards in `output` — `NNNNNN.tar` of
/// `samplesPerShard` list rows each, `NNNNNN_stats.json` beside each (the row outcomes; its
/// presence marks the shard complete) and `download_summary.json`.
///
/// Rows are fetched concurrently but written in list order through a bounded window, so the
/// shards are the same whatever the timing, and a run that was stopped (Ctrl-C, SIGKILL, power
/// loss) and started again fetches only the rows of shards without stats and ends with the
/// same shards as a run that was never stopped. Partial shards never appear: a shard is
/// written under a hidden temporary name (removed on the next start) and renamed when whole.
public final class DatasetDownloader {
    public struct Options: Sendable {
        public var list: String
        public var format: URLListFormat?
        public var columns = URLListFormat.Columns()
        public var output: String
        public var samplesPerShard = 1000
        public var fetcher: ImageFetcher.Settings
        public var admission = ImageAdmission()
        /// Fetch again the rows of complete shards that failed with a transient cause, and
        /// rewrite those shards with what now succeeds.
        public var retriesFailed = false
        /// Rows fetched ahead of the oldest row not yet written; default 4 × concurrency.
        public var window: Int?
        /// Progress line: nil on a terminal only.
        public var showsProgress: Bool?

        public init(list: String, output: String, fetcher: ImageFetcher.Settings) {
            self.list = list
            self.output = output
            self.fetcher = fetcher
        }
    }

    public let options: Options

    public init(options: Options) throws {
        guard options.samplesPerShard > 0 else { throw DatasetError.invalidArgument("--samples-per-shard must be positive") }
        self.options = options
    }

    /// What to do with one planned row.
    private enum Plan {
        case fetch
        case ready(RowOutcome)
    }

    public func run() async throws -> DownloadSummary {
        let started = DispatchTime.now().uptimeNanoseconds
        let folder = options.output
        try AtomicFile.makeFolder(folder)
        try removeStaleTemporaries(in: folder)
        var complete = try completeShards(in: folder)

        // A first pass counts the rows (for the progress line), checks that the whole list reads,
        // and that complete shards came from this list (the same URL on each of their rows).
        let counter = try URLListFormat.open(options.list, format: options.format, columns: options.columns)
        var rowCount = 0
        while let entry = try counter.next() {
            rowCount += 1
            guard let stats = complete[entry.row / options.samplesPerShard] else { continue }
            let index = entry.row - stats.firstRow
            let recorded = stats.records.indices.contains(index) ? stats.records[index] : nil
            guard let recorded, recorded.row == entry.row, recorded.url == entry.url else {
                throw DatasetError.invalidArgument("\(folder) holds shards of another list: row \(entry.row) of \(options.list) is \(entry.url), shard \(stats.shard) has \(recorded?.url ?? "no such row"); choose another --out")
            }
        }

        // Shards to redo for --retry-failed: their transient failures are asked again, the rest kept.
        var redo: [Int: (stats: ShardStats, records: [Int: RowRecord], members: [String: [TarMember]])] = [:]
        if options.retriesFailed {
            for (shard, stats) in complete where stats.records.contains(where: { $0.transient == true }) {
                let records = Dictionary(stats.records.map { ($0.row, $0) }, uniquingKeysWith: { first, _ in first })
                redo[shard] = (stats, records, try membersByKey(folder + "/" + ShardStats.tarName(shard)))
                complete[shard] = nil
            }
        }
        var seen: [String: Int] = [:]
        for stats in complete.values.map({ $0 }) + redo.values.map(\.stats) {
            for record in stats.records where record.status == .success {
                if let hash = record.sha256 { seen[hash] = record.row }
            }
        }
        let toFetch = (0..<rowCount).reduce(0) { total, row in
            let shard = row / options.samplesPerShard
            if complete[shard] != nil { return total }
            if let record = redo[shard]?.records[row] {
                return total + (record.transient == true ? 1 : 0)
            }
            return total + 1
        }

        let fetcher = ImageFetcher(settings: options.fetcher)
        let admission = options.admission
        let assembler = ShardAssembler(folder: folder, samplesPerShard: options.samplesPerShard, seenHashes: seen)
        let progress = DownloadProgress(total: toFetch, forced: options.showsProgress)
        let window = max(1, options.window ?? 4 * options.fetcher.concurrency)
        let reader = try URLListFormat.open(options.list, format: options.format, columns: options.columns)
        var fetched = 0, successesThisRun = 0

        func plan(_ entry: URLListEntry) throws -> Plan? {
            let shard = entry.row / options.samplesPerShard
            if complete[shard] != nil { return nil }
            guard let redone = redo[shard], let record = redone.records[entry.row] else { return .fetch }
            if record.transient == true { return .fetch }
            if record.status == .success {
                guard let members = redone.members[record.key], !members.isEmpty else {
                    let tar = folder + "/" + ShardStats.tarName(shard)
                    throw DatasetError.unreadable(tar, reason: "its stats list sample \(record.key), the shard does not hold it; remove the shard and its stats to fetch them again")
                }
                return .ready(.kept(record, members: members))
            }
            return .ready(.keptFailure(record))
        }

        do {
            try await withThrowingTaskGroup(of: (Int, RowOutcome).self) { group in
                var queue: [URLListEntry] = []          // planned rows not yet written, in order
                var head = 0
                var done: [Int: RowOutcome] = [:]
                var inFlight = 0
                var listEnded = false
                while true {
                    while !listEnded && queue.count - head < window {
                        guard let entry = try reader.next() else { listEnded = true; break }
                        guard let planned = try plan(entry) else { continue }
                        queue.append(entry)
                        switch planned {
                        case .fetch:
                            inFlight += 1
                            group.addTask {
                                (entry.row, await Self.process(entry, fetcher: fetcher, admission: admission))
                            }
                        case .ready(let outcome):
                            done[entry.row] = outcome
                        }
                    }
                    while head < queue.count, let outcome = done.removeValue(forKey: queue[head].row) {
                        let entry = queue[head]
                        head += 1
                        let isFresh: Bool
                        switch outcome {
                        case .image, .failure: isFresh = true
                        case .kept, .keptFailure: isFresh = false
                        }
                        let isSample = try assembler.add(entry, outcome)
                        if isFresh {
                            fetched += 1
                            if isSample { successesThisRun += 1 }
                            progress.update(done: fetched, successes: successesThisRun)
                        }
                    }
                    if head > 4096 { queue.removeFirst(head); head = 0 }
                    if listEnded && inFlight == 0 && head == queue.count { break }
                    if inFlight > 0, case let (row, outcome)? = try await group.next() {
                        inFlight -= 1
                        done[row] = outcome
                    }
                }
            }
            try assembler.finishShard()
        } catch {
            // The run's own error is the one to report; closing the client's connections after
            // it is done for tidiness, and a failure there would only hide the first.
            do { try await fetcher.shutdown() } catch {}
            throw error
        }
        try await fetcher.shutdown()
        progress.finish(done: fetched, successes: successesThisRun)

        var all = complete
        for stats in assembler.written { all[stats.shard] = stats }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let summary = DownloadSummary(list: options.list, stats: all.keys.sorted().compactMap { all[$0] },
                                      rowsFetchedThisRun: fetched, shardsWrittenThisRun: assembler.written.count,
                                      successesThisRun: successesThisRun, seconds: seconds)
        try AtomicFile.write(try ShardStats.encoder.encode(summary), to: folder + "/download_summary.json")
        return summary
    }

    /// Fetch, check, hash: the work of one row, off the writer's path.
    private static func process(_ entry: URLListEntry, fetcher: ImageFetcher, admission: ImageAdmission) async -> RowOutcome {
        switch await fetcher.fetch(entry.url) {
        case .failure(let failure):
            return .failure(failure)
        case .success(let body):
            switch admission.admit(body.data) {
            case .failure(let failure): return .failure(failure)
            case .success(let image): return .image(image, sha256: ContentHash.sha256(body.data))
            }
        }
    }

    /// The stats of complete shards in `folder`, checked against this run's shard size.
    private func completeShards(in folder: String) throws -> [Int: ShardStats] {
        var complete: [Int: ShardStats] = [:]
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw DatasetError.unreadable(folder, reason: "cannot list the folder: \(error.localizedDescription)")
        }
        for name in names {
            guard let shard = ShardStats.shard(ofStatsName: name) else { continue }
            let path = folder + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError.unreadable(path, reason: "cannot read") }
            let stats: ShardStats
            do { stats = try ShardStats.decoder.decode(ShardStats.self, from: data) } catch {
                throw DatasetError.unreadable(path, reason: "not the stats of a shard (\(error)); remove it and its shard to fetch them again")
            }
            guard stats.samplesPerShard == options.samplesPerShard, stats.shard == shard else {
                throw DatasetError.invalidArgument("\(folder) holds shards of \(stats.samplesPerShard) rows; resume with --samples-per-shard \(stats.samplesPerShard) or choose another --out")
            }
            guard FileManager.default.fileExists(atPath: folder + "/" + ShardStats.tarName(shard)) else { continue }
            complete[shard] = stats
        }
        return complete
    }

    /// Temporary shard and stats files a stopped run left (hidden `.NAME.tmp-…` files).
    private func removeStaleTemporaries(in folder: String) throws {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw DatasetError.unreadable(folder, reason: "cannot list the folder: \(error.localizedDescription)")
        }
        for name in names where name.hasPrefix(".") && name.contains(".tmp-")
            && (name.contains(".tar.tmp-") || name.contains("_stats.json.tmp-") || name.contains("download_summary.json.tmp-")) {
            do { try FileManager.default.removeItem(atPath: folder + "/" + name) } catch {
                throw DatasetError.unwritable(folder + "/" + name, reason: "cannot remove a stale temporary file: \(error.localizedDescription)")
            }
        }
    }

    /// A shard's members grouped by sample key, to carry samples over when the shard is rewritten.
    private func membersByKey(_ path: String) throws -> [String: [TarMember]] {
        let reader = try TarReader(path: path)
        var members: [String: [TarMember]] = [:]
        while let member = try reader.next() {
            let name = URL(fileURLWithPath: member.name).lastPathComponent
            let key = String(name.prefix { $0 != "." })
            members[key, default: []].append(member)
        }
        if let damage = reader.damage { throw DatasetError.unreadable(path, reason: damage.reason) }
        return members
    }
}
