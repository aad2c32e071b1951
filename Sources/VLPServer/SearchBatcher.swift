import Foundation

/// How `SearchEngine`'s async searches share the model: queries that arrive together are
/// embedded in one forward (texts in one, images in another) instead of one after another.
public struct SearchBatching: Sendable {
    /// How long the first query of a batch waits for others to join it, in seconds. Under load
    /// queries arrive while a batch computes and the next batch starts at once.
    public var window: TimeInterval
    /// Whether a query that comes alone to an idle model after a batch of one (one client
    /// asking in turn) skips the window: nothing suggests company, and waiting would only add
    /// latency.
    public var skipsWindowWhenAlone: Bool
    /// Most queries in one batch (the embedder's own batch size splits larger ones anyway).
    public var maximumBatch: Int
    /// Most queries waiting for the model; one more is refused (`SearchEngineError.overloaded`)
    /// instead of the wait growing without bound.
    public var maximumQueue: Int
    /// Most bytes of query images waiting, so that a burst of large uploads is refused too.
    public var maximumQueuedImageBytes: Int

    public init(window: TimeInterval = 0.002, skipsWindowWhenAlone: Bool = true, maximumBatch: Int = 32, maximumQueue: Int = 256,
                maximumQueuedImageBytes: Int = 256 << 20) {
        self.window = max(0, window)
        self.skipsWindowWhenAlone = skipsWindowWhenAlone
        self.maximumBatch = max(1, maximumBatch)
        self.maximumQueue = max(1, maximumQueue)
        self.maximumQueuedImageBytes = max(1, maximumQueuedImageBytes)
    }
}

/// Why an async search was not run.
public enum SearchEngineError: Error, CustomStringConvertible, Equatable {
    /// The queue of waiting queries is full; the caller may try again shortly.
    case overloaded(waiting: Int)

    public var description: String {
        switch self {
        case .overloaded(let waiting): return "the server is busy (\(waiting) queries waiting); try again shortly"
        }
    }
}

/// What a batcher holds and has done, for tests, benchmarks and logs.
public struct SearchBatchStatistics: Sendable, Equatable {
    /// Queries waiting for the model now.
    public var waiting = 0
    /// Batches run so far, the queries in them, and the largest.
    public var batches = 0
    public var queries = 0
    public var largest = 0
}

/// One query for the model: what to embed and how to rank what it finds.
struct SearchQuery: Sendable {
    enum Input: Sendable {
        case text(String)
        case image([UInt8])
    }

    var input: Input
    var count: Int
    var target: SearchIndex.Target
    var rerank: Int

    var imageBytes: Int {
        if case .image(let bytes) = input { return bytes.count }
        return 0
    }
}

/// The queue between async callers and the model: callers `submit` a query with the closure
/// that receives its answer; one thread of its own takes the waiting queries in arrival order,
/// at most `maximumBatch` at a time once the oldest has waited `window` (see there), and hands them to
/// `run`, which answers each. The thread starts with the first query and ends with `stop()`.
final class SearchBatcher: @unchecked Sendable {
    typealias Reply = @Sendable (Result<[SearchIndex.Hit], Error>) -> Void

    private struct Waiting {
        var query: SearchQuery
        var reply: Reply
        var arrival: Date
    }

    let limits: SearchBatching
    private let run: ([SearchQuery]) -> [Result<[SearchIndex.Hit], Error>]
    private let condition = NSCondition()
    private var waiting: [Waiting] = []
    private var waitingImageBytes = 0
    private var isRunning = false
    private var isStopped = false
    private var counts = SearchBatchStatistics()
    /// The size of the last batch and when it was answered.
    private var lastBatch = (size: 0, end: Date.distantPast)

    init(limits: SearchBatching, run: @escaping ([SearchQuery]) -> [Result<[SearchIndex.Hit], Error>]) {
        self.limits = limits
        self.run = run
    }

    /// Queues a query; `reply` is called once, from the batcher's thread. Throws
    /// `SearchEngineError.overloaded` when the queue is full (then `reply` is never called).
    func submit(_ query: SearchQuery, reply: @escaping Reply) throws {
        condition.lock()
        defer { condition.unlock() }
        guard !isStopped else { throw CancellationError() }
        guard waiting.count < limits.maximumQueue,
              query.imageBytes == 0 || waitingImageBytes + query.imageBytes <= limits.maximumQueuedImageBytes else {
            throw SearchEngineError.overloaded(waiting: waiting.count)
        }
        waiting.append(Waiting(query: query, reply: reply, arrival: Date()))
        waitingImageBytes += query.imageBytes
        if !isRunning {
            isRunning = true
            let thread = Thread { [self] in loop() }
            thread.name = "vlp.search-batcher"
            thread.start()
        }
        condition.signal()
    }

    /// Ends the thread once the queries already waiting are answered.
    func stop() {
        condition.lock()
        isStopped = true
        condition.signal()
        condition.unlock()
    }

    var statistics: SearchBatchStatistics {
        condition.lock()
        defer { condition.unlock() }
        var statistics = counts
        statistics.waiting = waiting.count
        return statistics
    }

    private func loop() {
        while let batch = nextBatch() {
            let answers = run(batch.map(\.query))
            condition.lock()
            lastBatch = (batch.count, Date())
            condition.unlock()
            for (item, answer) in zip(batch, answers) { item.reply(answer) }
        }
    }

    /// Waits for a query, then until the oldest has waited `window` or a batch is full; nil
    /// once stopped with nothing left.
    private func nextBatch() -> [Waiting]? {
        condition.lock()
        defer { condition.unlock() }
        while waiting.isEmpty {
            if isStopped { return nil }
            condition.wait()
        }
        let isAlone = limits.skipsWindowWhenAlone && waiting.count == 1 && lastBatch.size <= 1 && waiting[0].arrival > lastBatch.end
        let deadline = isAlone ? Date() : waiting[0].arrival.addingTimeInterval(limits.window)
        while waiting.count < limits.maximumBatch, !isStopped, Date() < deadline {
            _ = condition.wait(until: deadline)
        }
        let batch = Array(waiting.prefix(limits.maximumBatch))
        waiting.removeFirst(batch.count)
        waitingImageBytes -= batch.reduce(0) { $0 + $1.query.imageBytes }
        counts.batches += 1
        counts.queries += batch.count
        counts.largest = max(counts.largest, batch.count)
        return batch
    }
}
