import Foundation
import Torch
import VLP

/// Cross-modal search over an index: a text or an image is embedded with the same model whose
/// image tower built the index, then looked up by cosine similarity. The model runs on a queue
/// of its own, one call at a time (it is not safe to call from several threads, and async
/// callers must not block the concurrency pool while it computes). The async searches go
/// through a `SearchBatcher`: queries that arrive together are embedded in one forward, texts
/// in one and images in another, looked up in FAISS together, and the re-ranked ones then
/// re-ordered together by the cross encoders (`SearchReranker`: their pairs in shared forwards).
public final class SearchEngine: @unchecked Sendable {
    public let index: SearchIndex
    public let embedder: TowerEmbedder
    /// Largest result count a query may ask for.
    public var maximumCount = 1000
    /// Largest number of candidates the cross encoders re-rank for one query.
    public var maximumRerank = 100
    private let queue = DispatchQueue(label: "vlp.search-engine")
    /// R2D2's cross encoders for the second stage; nil for a dual encoder.
    private let reranker: SearchReranker?
    private var batcher: SearchBatcher!

    /// Default bound on the re-ranking cache of candidate images' states.
    public static let defaultRerankCacheBytes = 256 << 20

    /// - Parameter rerankWeight: the weight of the cross encoders' match probability in a
    ///   re-ranked score (a bundle's `rerank_weight`).
    /// - Parameter rerankCacheBytes: most bytes of indexed images' token states kept for
    ///   re-ranking, least recently used out first (0: every candidate is decoded and encoded anew).
    public init(index: SearchIndex, embedder: TowerEmbedder, rerankWeight: Double = 1, batching: SearchBatching = SearchBatching(),
                rerankCacheBytes: Int = SearchEngine.defaultRerankCacheBytes) throws {
        let width = embedder.model.configuration.embedDim
        guard width == index.manifest.dimension else {
            throw SearchIndexError.invalidIndex(folder: index.folder.path,
                                                reason: "it holds width-\(index.manifest.dimension) features; the model embeds width \(width) (was it built with another checkpoint?)")
        }
        self.index = index
        self.embedder = embedder
        reranker = SearchReranker(embedder, weight: rerankWeight, cacheBytes: rerankCacheBytes)
        batcher = SearchBatcher(limits: batching) { [weak self] queries in
            guard let self else { return queries.map { _ in .failure(CancellationError()) } }
            return self.queue.sync { self.answer(queries) }
        }
    }

    deinit { batcher.stop() }

    /// How concurrent async searches are gathered.
    public var batching: SearchBatching { batcher.limits }

    /// Queries of the async searches waiting now, and the batches run so far.
    public var batchStatistics: SearchBatchStatistics { batcher.statistics }

    /// Whether `rerank` can be used: the model has R2D2's cross encoders.
    public var canRerank: Bool { reranker != nil }

    /// Opens an index folder with the model bundle and text length its manifest names, or
    /// `checkpoint` instead.
    public convenience init(indexFolder: String, checkpoint: String? = nil, device: Device = .cpu, batching: SearchBatching = SearchBatching(),
                            rerankCacheBytes: Int = SearchEngine.defaultRerankCacheBytes) throws {
        let index = try SearchIndex(folder: indexFolder)
        let bundle = try ModelBundle.open(checkpoint ?? index.manifest.checkpoint, device: device)
        try self.init(index: index, embedder: TowerEmbedder(bundle, maxLength: index.manifest.contextLength),
                      rerankWeight: bundle.preprocessing.rerankWeight ?? 1, batching: batching, rerankCacheBytes: rerankCacheBytes)
    }

    /// Images (or the indexed texts) for a text query, best first. With `rerank` K > 0 the
    /// first stage's top K images are re-ordered by R2D2's cross encoders (text targets are
    /// searched by similarity only: the cross encoders score image–text pairs).
    public func search(text: String, count: Int, target: SearchIndex.Target = .images, rerank: Int = 0) throws -> [SearchIndex.Hit] {
        let query = try textQuery(text, count: count, target: target, rerank: rerank)
        return try queue.sync { answer([query])[0] }.get()
    }

    /// Images like an encoded image (JPEG, PNG, WebP), or the indexed texts that describe it,
    /// best first. With `rerank` K > 0 the first stage's top K texts are re-ordered by R2D2's
    /// cross encoders (image targets by similarity only).
    public func search(image bytes: [UInt8], count: Int, target: SearchIndex.Target = .images, rerank: Int = 0) throws -> [SearchIndex.Hit] {
        let query = try imageQuery(bytes, count: count, target: target, rerank: rerank)
        return try queue.sync { answer([query])[0] }.get()
    }

    /// `search(text:count:)` for async servers: batched with the other queries waiting, off
    /// the caller's thread. Throws `SearchEngineError.overloaded` when too many are waiting.
    public func search(text: String, count: Int, target: SearchIndex.Target = .images, rerank: Int = 0) async throws -> [SearchIndex.Hit] {
        try await submit(try textQuery(text, count: count, target: target, rerank: rerank))
    }

    /// `search(image:count:)` for async servers, batched as `search(text:)`.
    public func search(image bytes: [UInt8], count: Int, target: SearchIndex.Target = .images, rerank: Int = 0) async throws -> [SearchIndex.Hit] {
        try await submit(try imageQuery(bytes, count: count, target: target, rerank: rerank))
    }

    private func textQuery(_ text: String, count: Int, target: SearchIndex.Target, rerank: Int) throws -> SearchQuery {
        let query = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !query.isEmpty else { throw SearchIndexError.invalidQuery("the text is empty") }
        try check(count, rerank: rerank, crossModal: target == .images, query: "a text query for texts")
        return SearchQuery(input: .text(query), count: count, target: target, rerank: rerank)
    }

    private func imageQuery(_ bytes: [UInt8], count: Int, target: SearchIndex.Target, rerank: Int) throws -> SearchQuery {
        guard !bytes.isEmpty else { throw SearchIndexError.invalidQuery("the image is empty") }
        try check(count, rerank: rerank, crossModal: target == .texts, query: "an image query for images")
        return SearchQuery(input: .image(bytes), count: count, target: target, rerank: rerank)
    }

    private func submit(_ query: SearchQuery) async throws -> [SearchIndex.Hit] {
        try await withCheckedThrowingContinuation { continuation in
            do {
                try batcher.submit(query) { continuation.resume(with: $0) }
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    /// Answers queries together (on `queue`): the texts' features in one forward, the images'
    /// in another, the first stage of the queries that ask the same of the index in one FAISS
    /// search, then the re-ranked queries' top K re-ordered by the cross encoders together. A query
    /// that fails (an image that does not decode) fails alone.
    private func answer(_ queries: [SearchQuery]) -> [Result<[SearchIndex.Hit], Error>] {
        var vectors = [Result<[Float], Error>](repeating: .failure(SearchIndexError.invalidQuery("not embedded")), count: queries.count)
        let texts = queries.indices.compactMap { i -> (Int, String)? in
            if case .text(let text) = queries[i].input { return (i, text) }
            return nil
        }
        if !texts.isEmpty {
            do {
                for (row, i) in zip(try TowerEmbedder.rows(embedder.textFeatures(texts.map(\.1))), texts.map(\.0)) { vectors[i] = .success(row) }
            } catch {
                for (i, _) in texts { vectors[i] = .failure(error) }
            }
        }
        // Each image is decoded alone, so that one that does not decode fails only its query.
        var generator = SystemRandomNumberGenerator()    // evaluation preprocessing draws nothing
        var decoded: [(Int, [Float])] = []
        for i in queries.indices {
            guard case .image(let bytes) = queries[i].input else { continue }
            do {
                decoded.append((i, try embedder.pipeline(encoded: bytes, source: "the query image", using: &generator).values))
            } catch {
                vectors[i] = .failure(SearchIndexError.invalidQuery("\(error)"))
            }
        }
        if !decoded.isEmpty {
            do {
                let side = embedder.imageSize
                let pixels = try Tensor(decoded.flatMap(\.1), shape: [decoded.count, 3, side, side])
                for (row, i) in zip(try TowerEmbedder.rows(embedder.imageFeatures(pixels: pixels)), decoded.map(\.0)) { vectors[i] = .success(row) }
            } catch {
                for (i, _) in decoded { vectors[i] = .failure(error) }
            }
        }
        return secondStage(queries, firstStage(queries, vectors))
    }

    /// The first stage's `max(count, rerank)` nearest of each embedded query; queries with the
    /// same target and depth are searched together.
    private func firstStage(_ queries: [SearchQuery], _ vectors: [Result<[Float], Error>]) -> [Result<[SearchIndex.Hit], Error>] {
        var results = vectors.map { $0.map { _ in [SearchIndex.Hit]() } }
        let embedded = queries.indices.filter { if case .success = vectors[$0] { return true } else { return false } }
        struct Lookup: Hashable {
            var target: SearchIndex.Target
            var depth: Int
        }
        let groups = Dictionary(grouping: embedded) { Lookup(target: queries[$0].target, depth: max(queries[$0].count, queries[$0].rerank)) }
        for (lookup, members) in groups {
            do {
                let found = try index.search(members.map { try vectors[$0].get() }, count: lookup.depth, target: lookup.target)
                for (i, hits) in zip(members, found) { results[i] = .success(hits) }
            } catch {
                for i in members { results[i] = .failure(error) }
            }
        }
        return results
    }

    /// Each query cut to its `count`; those with `rerank` K > 0 first have their top K
    /// re-ordered by the cross encoders, all such queries of the batch scored together.
    private func secondStage(_ queries: [SearchQuery], _ found: [Result<[SearchIndex.Hit], Error>]) -> [Result<[SearchIndex.Hit], Error>] {
        var results = found
        var requests: [SearchReranker.Request] = []
        /// Each re-ranked query's position in the batch and the first stage's hits below its top K.
        var members: [(query: Int, rest: ArraySlice<SearchIndex.Hit>)] = []
        for (i, query) in queries.enumerated() {
            guard query.rerank > 0, reranker != nil, case .success(let hits) = found[i] else { continue }
            let top = Array(hits.prefix(query.rerank))
            switch query.input {
            case .text(let text): requests.append(.init(query: .text(text, images: top.map { index.imageFile(of: $0.entry) }), hits: top))
            case .image(let bytes): requests.append(.init(query: .image(bytes), hits: top))
            }
            members.append((i, hits.dropFirst(query.rerank)))
        }
        if let reranker, !requests.isEmpty {
            for (member, reordered) in zip(members, reranker.rerank(requests)) {
                results[member.query] = reordered.map { $0 + member.rest }
            }
        }
        return zip(queries, results).map { query, result in result.map { Array($0.prefix(query.count)) } }
    }

    /// `crossModal`: the query and what it looks for are an image and a text, the pairs the
    /// cross encoders score; `query` names the other case in the error.
    private func check(_ count: Int, rerank: Int, crossModal: Bool, query: String) throws {
        guard (1...maximumCount).contains(count) else {
            throw SearchIndexError.invalidQuery("the result count must be in 1...\(maximumCount), not \(count)")
        }
        guard (0...maximumRerank).contains(rerank) else {
            throw SearchIndexError.invalidQuery("rerank must be in 0...\(maximumRerank), not \(rerank)")
        }
        if rerank > 0 && reranker == nil {
            throw SearchIndexError.invalidQuery("re-ranking needs R2D2's cross encoders; this index's model has none")
        }
        if rerank > 0 && !crossModal {
            throw SearchIndexError.invalidQuery("re-ranking scores image–text pairs; \(query) cannot be re-ranked")
        }
    }
}
