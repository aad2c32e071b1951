import Foundation
import Torch

/// Turns a `DataSource` into batches of tensors, several threads at once:
///
///     reader thread ── seeded unit order ─ shuffle buffer ─ rank filter ─┐
///     worker threads (×workers): choose text, tokenize, mask, decode, transform ◄┘
///     assembly thread: results back in stream order ─ skips counted ─ Batch
///     caller: next()
///
/// Memory is bounded whatever the dataset's size: the shuffle buffer holds
/// `shuffleBufferSize` raw samples, at most `samplesInFlight` samples are between the reader
/// and the assembly thread, at most `prefetchBatches` finished batches wait for the caller.
///
/// Deterministic: for a given seed, data and options the batches are the same whatever the
/// number of workers (see `ShardAssignment`), and a loader started from a saved
/// `LoaderPosition` yields exactly the batches the uninterrupted one would have yielded next.
///
/// Bad samples (corrupt images, no usable text, records the format reader rejects) are skipped
/// and counted in `report`, never fatal. Errors that stop the epoch (a shard missing or
/// unreadable) are thrown by `next()`, naming the file.
///
/// Use from one thread:
///
///     let loader = try DataLoader(source: .webDataset(pattern: "data/shard-{000000..000099}.tar"),
///                                 transform: transform, options: .init(batchSize: 256),
///                                 startingAt: savedPosition ?? LoaderPosition(seed: 42))
///     while loader.position.epoch < epochs {
///         while let batch = try loader.next() { step(batch); save(batch.position) }
///     }
public final class DataLoader {
    public struct Options: Sendable {
        public var batchSize: Int
        /// Worker threads preparing samples.
        public var workers: Int
        /// Shuffle the unit order and the samples (through the shuffle buffer) per epoch.
        public var shuffle: Bool
        public var shuffleBufferSize: Int
        /// Samples between the reader and the assembly thread at most (queued, being
        /// prepared, or prepared and waiting for their turn); nil: 2 × batch size, at least
        /// 4 per worker.
        public var samplesInFlight: Int?
        /// Finished batches waiting for the caller at most.
        public var prefetchBatches: Int
        /// Leave out the last batch of an epoch when it is short.
        public var dropLast: Bool
        public var assignment: ShardAssignment
        /// Progress bar on standard error: nil on a terminal only, true always, false never.
        public var progress: Bool?
        /// The progress bar's total, when known.
        public var expectedBatchesPerEpoch: Int?
        /// Skips kept as examples in the report.
        public var reportExampleLimit: Int

        public init(batchSize: Int, workers: Int = 2, shuffle: Bool = true, shuffleBufferSize: Int = 1000,
                    samplesInFlight: Int? = nil, prefetchBatches: Int = 2, dropLast: Bool = true,
                    assignment: ShardAssignment? = nil, progress: Bool? = nil,
                    expectedBatchesPerEpoch: Int? = nil, reportExampleLimit: Int = 100) {
            self.batchSize = batchSize
            self.workers = workers
            self.shuffle = shuffle
            self.shuffleBufferSize = shuffleBufferSize
            self.samplesInFlight = samplesInFlight
            self.prefetchBatches = prefetchBatches
            self.dropLast = dropLast
            self.assignment = assignment ?? .singleProcess
            self.progress = progress
            self.expectedBatchesPerEpoch = expectedBatchesPerEpoch
            self.reportExampleLimit = reportExampleLimit
        }

        var window: Int { samplesInFlight ?? max(2 * batchSize, 4 * workers) }

        func validated() throws -> Options {
            guard batchSize >= 1 else { throw DatasetError.invalidArgument("loader: batch size \(batchSize) must be at least 1") }
            guard workers >= 1 else { throw DatasetError.invalidArgument("loader: \(workers) workers; need at least 1") }
            guard shuffleBufferSize >= 1 else { throw DatasetError.invalidArgument("loader: shuffle buffer size \(shuffleBufferSize) must be at least 1") }
            guard window >= 1 else { throw DatasetError.invalidArgument("loader: samples in flight \(window) must be at least 1") }
            guard prefetchBatches >= 1 else { throw DatasetError.invalidArgument("loader: prefetch of \(prefetchBatches) batches; need at least 1") }
            return self
        }
    }

    /// Counters for tests and tuning.
    public struct Statistics: Sendable, Equatable {
        /// Records taken from the format readers (this epoch run).
        public var samplesRead = 0
        /// Most samples ever between the reader and the assembly thread.
        public var peakSamplesInFlight = 0
        /// Most finished batches ever waiting for the caller.
        public var peakBatchesQueued = 0
    }

    public let source: DataSource
    public let transform: SampleTransform
    public let options: Options
    /// Where the next batch comes from; after a batch, equal to its `position`.
    public private(set) var position: LoaderPosition
    private var run: EpochRun?
    private var progress: ProgressBar?
    private var finishedReport: LoaderReport

    public init(source: DataSource, transform: SampleTransform, options: Options,
                startingAt position: LoaderPosition) throws {
        self.source = source
        self.transform = transform
        self.options = try options.validated()
        self.position = try position.validated()
        finishedReport = LoaderReport(exampleLimit: options.reportExampleLimit)
    }

    deinit { run?.stop() }

    /// Skips seen so far (all epochs of this loader).
    public var report: LoaderReport { run.map { $0.snapshot().report } ?? finishedReport }

    /// Counters of the current epoch run.
    public var statistics: Statistics { run?.snapshot().statistics ?? Statistics() }

    /// The next batch of the current epoch, or nil when the epoch is over (the position then
    /// moves to the start of the next epoch, and the following call starts it).
    public func next() throws -> Batch? {
        if run == nil {
            run = EpochRun(source: source, transform: transform, options: options, start: position, report: finishedReport)
            progress = ProgressBar(label: "epoch \(position.epoch)", total: options.expectedBatchesPerEpoch,
                                   forced: options.progress)
            run?.launch()
        }
        guard let run else { return nil }
        switch run.take() {
        case .batch(let batch):
            position = batch.position
            let delivered = run.snapshot().report.samplesDelivered
            progress?.update(done: position.batchesInEpoch, items: delivered)
            return batch
        case .end:
            let state = run.snapshot()
            run.stop()
            self.run = nil
            finishedReport = state.report
            progress?.finish(done: position.batchesInEpoch, items: state.report.samplesDelivered)
            progress = nil
            let ended = position
            position = position.startOfNextEpoch
            if ended.samplesConsumed == 0 && ended.batchesInEpoch == 0 {
                throw DatasetError.invalidArgument(
                    "loader: epoch \(ended.epoch) gave no batch (\(state.statistics.samplesRead) records read; \(state.report))")
            }
            return nil
        case .failure(let error):
            finishedReport = run.snapshot().report
            run.stop()
            self.run = nil
            progress = nil
            throw error
        }
    }

    /// Stops the threads of the current epoch; the next `next()` restarts from `position`.
    public func stop() {
        if let run { finishedReport = run.snapshot().report }
        run?.stop()
        run = nil
    }
}

/// One epoch's threads and the state they share, all guarded by one condition.
final class EpochRun: @unchecked Sendable {
    enum Output {
        case batch(Batch)
        case end
        case failure(Error)
    }

    private struct Item {
        var localIndex: Int
        var sample: Sample
        var unit: String
        var recordIndex: Int
    }

    private enum Outcome {
        case prepared(SampleTransform.Prepared)
        case skipped(LoaderSkip)
    }

    private let source: DataSource
    private let transform: SampleTransform
    private let options: Options
    typealias Options = DataLoader.Options
    private let start: LoaderPosition

    private let condition = NSCondition()
    // Guarded by `condition`:
    private var inputs: [[Item]]
    private var results: [Int: Outcome] = [:]
    private var nextToAssemble: Int
    private var readerFinished = false
    private var endIndex = Int.max
    private var outputs: [Output] = []
    private var isStopped = false
    private var readerFailure: Error?
    private var liveThreads = 0
    private var report: LoaderReport
    private var statistics = DataLoader.Statistics()

    init(source: DataSource, transform: SampleTransform, options: Options, start: LoaderPosition, report: LoaderReport) {
        self.source = source
        self.transform = transform
        self.options = options
        self.start = start
        self.report = report
        inputs = Array(repeating: [], count: options.workers)
        nextToAssemble = start.samplesConsumed
    }

    func launch() {
        spawn(name: "vlp-loader-reader") { $0.readLoop() }
        for w in 0..<options.workers { spawn(name: "vlp-loader-worker-\(w)") { $0.workLoop(worker: w) } }
        spawn(name: "vlp-loader-assembly") { $0.assembleLoop() }
    }

    private func spawn(name: String, _ body: @escaping @Sendable (EpochRun) -> Void) {
        condition.lock()
        liveThreads += 1
        condition.unlock()
        let thread = Thread { [self] in
            body(self)
            condition.lock()
            liveThreads -= 1
            condition.broadcast()
            condition.unlock()
        }
        thread.name = name
        thread.stackSize = 4 << 20
        thread.start()
    }

    /// Stops every thread and waits for them to end.
    func stop() {
        condition.lock()
        isStopped = true
        condition.broadcast()
        while liveThreads > 0 { condition.wait() }
        condition.unlock()
    }

    func snapshot() -> (report: LoaderReport, statistics: DataLoader.Statistics) {
        condition.lock()
        defer { condition.unlock() }
        return (report, statistics)
    }

    /// The next output, waiting for it.
    func take() -> Output {
        condition.lock()
        defer { condition.unlock() }
        while outputs.isEmpty && liveThreads > 0 { condition.wait() }
        guard !outputs.isEmpty else {
            return .failure(DatasetError.invalidArgument("loader: the epoch's threads ended without a result"))
        }
        condition.broadcast()
        return outputs.removeFirst()
    }

    // MARK: reader

    private func readLoop() {
        var streamIndex = 0
        var localIndex = 0
        var buffer = ShuffleBuffer<Item>(capacity: options.shuffle ? options.shuffleBufferSize : 1,
                                         generator: ShardAssignment.generator(seed: start.seed, epoch: start.epoch, stream: "shuffle"))
        // Hands a sample of the shuffled stream on; false once stopped.
        func emit(_ item: Item) -> Bool {
            defer { streamIndex += 1 }
            guard options.assignment.keeps(streamIndex: streamIndex) else { return true }
            var item = item
            item.localIndex = localIndex
            localIndex += 1
            if item.localIndex < start.samplesConsumed { return true }      // resuming: used before
            condition.lock()
            defer { condition.unlock() }
            while !isStopped && item.localIndex - nextToAssemble >= options.window { condition.wait() }
            if isStopped { return false }
            inputs[ShardAssignment.worker(forLocalIndex: item.localIndex, workers: options.workers)].append(item)
            statistics.peakSamplesInFlight = max(statistics.peakSamplesInFlight, item.localIndex + 1 - nextToAssemble)
            condition.broadcast()
            return true
        }
        func noteReaderSkips(_ reader: SampleReader, from seen: inout Int, unit: String) {
            let skipped = reader.skipped
            guard skipped.count > seen else { return }
            condition.lock()
            for record in skipped[seen...] {
                report.record(LoaderSkip(file: record.file, readerLocation: record.line, reason: .unreadableRecord,
                                         detail: record.reason))
            }
            condition.unlock()
            seen = skipped.count
        }
        do {
            let units = try options.assignment.units(source.units, seed: start.seed, epoch: start.epoch,
                                                     shuffled: options.shuffle)
            for unit in units {
                let reader = try source.open(unit)
                var recordIndex = 0
                var seenSkips = 0
                while let sample = try reader.next() {
                    noteReaderSkips(reader, from: &seenSkips, unit: unit)
                    condition.lock()
                    statistics.samplesRead += 1
                    let stopped = isStopped
                    condition.unlock()
                    if stopped { return finishReading(failure: nil) }
                    let item = Item(localIndex: -1, sample: sample, unit: unit, recordIndex: recordIndex)
                    recordIndex += 1
                    if let out = buffer.push(item), !emit(out) { return finishReading(failure: nil) }
                }
                noteReaderSkips(reader, from: &seenSkips, unit: unit)
            }
            while let out = buffer.drain() {
                if !emit(out) { return finishReading(failure: nil) }
            }
            finishReading(failure: nil, end: localIndex)
        } catch {
            finishReading(failure: error)
        }
    }

    private func finishReading(failure: Error?, end: Int = Int.max) {
        condition.lock()
        readerFinished = true
        readerFailure = failure
        endIndex = failure == nil ? end : Int.max
        condition.broadcast()
        condition.unlock()
    }

    // MARK: workers

    private func workLoop(worker: Int) {
        while true {
            condition.lock()
            while inputs[worker].isEmpty && !isStopped && !readerFinished { condition.wait() }
            if isStopped || inputs[worker].isEmpty {
                condition.unlock()
                return
            }
            let item = inputs[worker].removeFirst()
            condition.unlock()

            let outcome: Outcome
            switch transform.prepare(item.sample, seed: start.seed, epoch: start.epoch, source: item.unit) {
            case .success(let prepared):
                outcome = .prepared(prepared)
            case .failure(let problem):
                outcome = .skipped(LoaderSkip(file: item.unit, recordIndex: item.recordIndex, sampleID: item.sample.id,
                                              reason: problem.reason, detail: problem.detail))
            }
            condition.lock()
            results[item.localIndex] = outcome
            condition.broadcast()
            condition.unlock()
        }
    }

    // MARK: assembly

    private func assembleLoop() {
        var pending: [SampleTransform.Prepared] = []
        pending.reserveCapacity(options.batchSize)
        var batches = start.batchesInEpoch
        var scratch: [Float] = []
        while true {
            condition.lock()
            while !isStopped && results[nextToAssemble] == nil && readerFailure == nil
                    && !(readerFinished && nextToAssemble >= endIndex) {
                condition.wait()
            }
            if isStopped { condition.unlock(); return }
            guard let outcome = results.removeValue(forKey: nextToAssemble) else {
                let failure = readerFailure
                condition.unlock()
                if let failure { deliver(.failure(failure)); return }
                if !options.dropLast && !pending.isEmpty {
                    batches += 1
                    guard makeBatch(pending, consumed: nextToAssemble, batches: batches, scratch: &scratch) else { return }
                }
                deliver(.end)
                return
            }
            let index = nextToAssemble
            nextToAssemble += 1
            if case .skipped(let skip) = outcome { report.record(skip) }
            condition.broadcast()
            condition.unlock()

            if case .prepared(let prepared) = outcome {
                pending.append(prepared)
                if pending.count == options.batchSize {
                    batches += 1
                    guard makeBatch(pending, consumed: index + 1, batches: batches, scratch: &scratch) else { return }
                    pending.removeAll(keepingCapacity: true)
                }
            }
        }
    }

    /// Assembles and delivers a batch; false when the run should end.
    private func makeBatch(_ samples: [SampleTransform.Prepared], consumed: Int, batches: Int, scratch: inout [Float]) -> Bool {
        let position = LoaderPosition(seed: start.seed, epoch: start.epoch, samplesConsumed: consumed, batchesInEpoch: batches)
        do {
            let batch = try BatchAssembly.batch(samples, position: position, scratch: &scratch)
            condition.lock()
            report.samplesDelivered += samples.count
            condition.unlock()
            return deliver(.batch(batch))
        } catch {
            _ = deliver(.failure(error))
            return false
        }
    }

    /// Queues an output for the caller, waiting for room; false when stopped.
    @discardableResult
    private func deliver(_ output: Output) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !isStopped && outputs.count >= options.prefetchBatches { condition.wait() }
        if isStopped { return false }
        outputs.append(output)
        statistics.peakBatchesQueued = max(statistics.peakBatchesQueued, outputs.count)
        condition.broadcast()
        if case .batch = output { return true }
        return false
    }
}
