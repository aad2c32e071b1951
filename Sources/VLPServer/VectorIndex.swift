import CFaiss
import Foundation

/// A FAISS index over fixed-width float vectors (image or text embeddings), built from an
/// index-factory string: "Flat" searches exactly, "HNSW32" approximately without training,
/// "IVF16,Flat" approximately after `train(_:)`. Ids are the positions rows were added at
/// (0, 1, 2, …), so a caller keeps its own id → item table in the same order.
///
/// Searches may run concurrently (FAISS's search is const); train, add and removeAll take the
/// index exclusively, since FAISS's mutations are not thread-safe.
public final class VectorIndex: @unchecked Sendable {
    /// How a query is compared with a stored vector.
    public enum Metric: Sendable, Equatable, CustomStringConvertible {
        /// Larger is closer; cosine similarity when vectors are L2-normalized.
        case innerProduct
        /// Squared Euclidean distance; smaller is closer.
        case l2

        public var description: String { self == .innerProduct ? "inner product" : "L2" }
    }

    /// One search hit: the id the vector was added under and its score (an inner product, or a
    /// squared L2 distance), in FAISS's order, best first.
    public struct Neighbor: Sendable, Equatable, Hashable {
        public let id: Int
        public let score: Float

        public init(id: Int, score: Float) {
            self.id = id
            self.score = score
        }
    }

    public let dimension: Int
    public let metric: Metric
    /// The factory string it was built from; nil when read from a file, which does not record it.
    public let factory: String?
    /// How errors name this index: the quoted factory string, or the file it was read from.
    private let name: String
    private let handle: OpaquePointer
    private let lock = ReadWriteLock()

    /// Builds an empty index; a factory string FAISS cannot parse is an error that quotes it.
    public init(dimension: Int, factory: String = "Flat", metric: Metric = .innerProduct) throws {
        guard dimension >= 1, let width = Int32(exactly: dimension) else {
            throw VectorIndexError.invalidDimension(dimension)
        }
        let code = metric == .innerProduct ? Int32(VF_METRIC_INNER_PRODUCT) : Int32(VF_METRIC_L2)
        guard let handle = vf_index_create(factory, width, code) else {
            throw VectorIndexError.invalidFactory(factory: factory, dimension: dimension, reason: VectorIndexError.lastMessage())
        }
        self.handle = handle
        self.dimension = dimension
        self.metric = metric
        self.factory = factory
        self.name = "\"\(factory)\""
    }

    private init(handle: OpaquePointer, dimension: Int, metric: Metric, name: String) {
        self.handle = handle
        self.dimension = dimension
        self.metric = metric
        self.factory = nil
        self.name = name
    }

    deinit { vf_index_free(handle) }

    /// The number of vectors added.
    public var count: Int { lock.reading { Int(vf_index_count(handle)) } }

    /// False for an index (IVF, PQ, …) that must learn from sample rows before rows can be added.
    public var isTrained: Bool { lock.reading { vf_index_is_trained(handle) } }

    /// Learns the index's quantizers from sample rows (a no-op for "Flat" and "HNSW…").
    public func train(_ rows: [[Float]]) throws {
        let flat = try flatten(rows, operation: "train")
        try lock.writing {
            try check(vf_index_train(handle, Int64(rows.count), flat), "train")
        }
    }

    /// Appends rows; returns the ids they were given.
    @discardableResult
    public func add(_ rows: [[Float]]) throws -> Range<Int> {
        let flat = try flatten(rows, operation: "add")
        return try lock.writing {
            let start = Int(vf_index_count(handle))
            if rows.isEmpty { return start..<start }
            guard vf_index_is_trained(handle) else {
                throw VectorIndexError.notTrained(operation: "add", index: name)
            }
            try check(vf_index_add(handle, Int64(rows.count), flat), "add")
            return start..<Int(vf_index_count(handle))
        }
    }

    /// The `k` best stored vectors for each query, best first; fewer than `k` when the index
    /// holds fewer (FAISS's -1 padding is dropped).
    public func search(_ queries: [[Float]], count k: Int) throws -> [[Neighbor]] {
        guard k >= 1 else { throw VectorIndexError.invalidNeighborCount(k) }
        let flat = try flatten(queries, operation: "search")
        return try lock.reading {
            let stored = Int(vf_index_count(handle))
            // An empty index has nothing to return (and FAISS's HNSW has no entry point to
            // start from); asking FAISS for more than `stored` would only add padding.
            let slots = min(k, stored)
            guard slots > 0, !queries.isEmpty else { return Array(repeating: [], count: queries.count) }
            var scores = [Float](repeating: 0, count: queries.count * slots)
            var labels = [Int64](repeating: -1, count: queries.count * slots)
            try check(vf_index_search(handle, Int64(queries.count), flat, Int64(slots), &scores, &labels), "search")
            return (0..<queries.count).map { query in
                (query * slots..<(query + 1) * slots).compactMap { slot in
                    labels[slot] < 0 ? nil : Neighbor(id: Int(labels[slot]), score: scores[slot])
                }
            }
        }
    }

    /// Sets search-time parameters in FAISS's syntax: "efSearch=128" (HNSW: candidates kept while
    /// searching, more is slower and finds more), "nprobe=16" (IVF: lists visited), comma-separated.
    public func setSearchParameters(_ parameters: String) throws {
        try lock.writing { try check(vf_index_set_parameters(handle, parameters), "set search parameters \"\(parameters)\"") }
    }

    /// Removes every vector; a trained index stays trained, and ids start again at 0.
    public func removeAll() throws {
        try lock.writing { try check(vf_index_reset(handle), "removeAll") }
    }

    /// Writes the index to a file atomically: FAISS writes (and syncs) a temporary file in the
    /// same folder, which is then renamed over `url`, so a reader never sees half an index.
    public func write(to url: URL) throws {
        let path = url.path
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
        try lock.reading {
            guard vf_index_write(handle, temporary) == 0 else {
                let reason = VectorIndexError.lastMessage()
                unlink(temporary)
                throw VectorIndexError.unwritableFile(path: path, reason: reason)
            }
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw VectorIndexError.unwritableFile(path: path, reason: reason)
        }
    }

    /// Reads an index written by `write(to:)` (or by FAISS itself, for either metric).
    public static func read(from url: URL) throws -> VectorIndex {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw VectorIndexError.missingFile(path: path)
        }
        guard !isDirectory.boolValue else { throw VectorIndexError.unreadableFile(path: path, reason: "is a folder") }
        guard let handle = vf_index_read(path) else {
            throw VectorIndexError.unreadableFile(path: path, reason: VectorIndexError.lastMessage())
        }
        let metric: Metric
        switch vf_index_metric(handle) {
        case Int32(VF_METRIC_INNER_PRODUCT): metric = .innerProduct
        case Int32(VF_METRIC_L2): metric = .l2
        case let other:
            vf_index_free(handle)
            throw VectorIndexError.unreadableFile(path: path, reason: "FAISS metric \(other) is neither inner product nor L2")
        }
        return VectorIndex(handle: handle, dimension: Int(vf_index_dimension(handle)), metric: metric, name: "read from \(path)")
    }

    /// Rows as one contiguous row-major buffer, as FAISS takes them; a row of the wrong width
    /// is an error naming its position.
    private func flatten(_ rows: [[Float]], operation: String) throws -> [Float] {
        var flat = [Float]()
        flat.reserveCapacity(rows.count * dimension)
        for (index, row) in rows.enumerated() {
            guard row.count == dimension else {
                throw VectorIndexError.wrongWidth(operation: operation, row: index, expected: dimension, got: row.count)
            }
            flat.append(contentsOf: row)
        }
        return flat
    }

    private func check(_ status: Int32, _ operation: String) throws {
        if status != 0 {
            throw VectorIndexError.faiss(operation: operation, index: name, reason: VectorIndexError.lastMessage())
        }
    }
}

/// Many readers or one writer, over a pthread rwlock (available on every platform we build on,
/// unlike Synchronization's types before macOS 15).
private final class ReadWriteLock: @unchecked Sendable {
    private let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)

    init() {
        lock.initialize(to: pthread_rwlock_t())
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deinitialize(count: 1)
        lock.deallocate()
    }

    func reading<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    func writing<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}
