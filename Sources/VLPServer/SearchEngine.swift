import Foundation
import Torch
import VLP

/// Cross-modal search over an index: a text or an image is embedded with the same model whose
/// image tower built the index, then looked up by cosine similarity. Embedding runs one query
/// at a time on a queue of its own (the model is not safe to call from several threads, and
/// async callers must not block the concurrency pool while it computes).
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

    public init(index: SearchIndex, embedder: TowerEmbedder) throws {
        let width = embedder.model.configuration.embedDim
        guard width == index.manifest.dimension else {
            throw SearchIndexError.invalidIndex(folder: index.folder.path,
                                                reason: "it holds width-\(index.manifest.dimension) features; the model embeds width \(width) (was it built with another checkpoint?)")
        }
        self.index = index
        self.embedder = embedder
        reranker = try? SearchReranker(embedder)
    }

    /// Whether `rerank` can be used: the model has R2D2's cross encoders.
    public var canRerank: Bool { reranker != nil }

    /// Opens an index folder with the checkpoint and text length its manifest names, or
    /// `checkpoint` instead.
    public convenience init(indexFolder: String, checkpoint: String? = nil, device: Device = .cpu) throws {
        let index = try SearchIndex(folder: indexFolder)
        try self.init(index: index, embedder: TowerEmbedder(checkpoint: checkpoint ?? index.manifest.checkpoint,
                                                            maxLength: index.manifest.contextLength, device: device))
    }

    /// Images (or the indexed texts) for a text query, best first. With `rerank` K > 0 the
    /// first stage's top K images are re-ordered by R2D2's cross encoders (text targets are
    /// searched by similarity only: the cross encoders score image–text pairs).
    public func search(text: String, count: Int, target: SearchIndex.Target = .images, rerank: Int = 0) throws -> [SearchIndex.Hit] {
        let query = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !query.isEmpty else { throw SearchIndexError.invalidQuery("the text is empty") }
        try check(count, rerank: rerank, crossModal: target == .images, query: "a text query for texts")
        return try queue.sync {
            let vector = try TowerEmbedder.rows(embedder.textFeatures([query]))[0]
            return try rank(vector, count: count, target: target, rerank: rerank) { top, reranker in
                try reranker.rerank(text: query, hits: top, images: top.map { index.imageFile(of: $0.entry) })
            }
        }
    }

    /// Images like an encoded image (JPEG, PNG, WebP), or the indexed texts that describe it,
    /// best first. With `rerank` K > 0 the first stage's top K texts are re-ordered by R2D2's
    /// cross encoders (image targets by similarity only).
    public func search(image bytes: [UInt8], count: Int, target: SearchIndex.Target = .images, rerank: Int = 0) throws -> [SearchIndex.Hit] {
        guard !bytes.isEmpty else { throw SearchIndexError.invalidQuery("the image is empty") }
        try check(count, rerank: rerank, crossModal: target == .texts, query: "an image query for images")
        return try queue.sync {
            let vector: [Float]
            do {
                vector = try TowerEmbedder.rows(embedder.imageFeatures(encoded: [bytes], sources: ["the query image"]))[0]
            } catch let error as ImageError {
                throw SearchIndexError.invalidQuery("\(error)")
            }
            return try rank(vector, count: count, target: target, rerank: rerank) { top, reranker in
                try reranker.rerank(image: bytes, hits: top)
            }
        }
    }

    /// `search(text:count:)` off the caller's thread, for async servers.
    public func search(text: String, count: Int, target: SearchIndex.Target = .images, rerank: Int = 0) async throws -> [SearchIndex.Hit] {
        try await offload { try self.search(text: text, count: count, target: target, rerank: rerank) }
    }

    /// `search(image:count:)` off the caller's thread, for async servers.
    public func search(image bytes: [UInt8], count: Int, target: SearchIndex.Target = .images, rerank: Int = 0) async throws -> [SearchIndex.Hit] {
        try await offload { try self.search(image: bytes, count: count, target: target, rerank: rerank) }
    }

    /// The first stage's `max(count, rerank)` nearest; with `rerank` > 0 its top `rerank`
    /// re-ordered by `reorder` (the cross encoders), then cut to `count`.
    private func rank(_ vector: [Float], count: Int, target: SearchIndex.Target, rerank: Int,
                      reorder: ([SearchIndex.Hit], SearchReranker) throws -> [SearchIndex.Hit]) throws -> [SearchIndex.Hit] {
        let hits = try index.search(vector, count: max(count, rerank), target: target)
        guard rerank > 0, let reranker else { return Array(hits.prefix(count)) }
        return Array((try reorder(Array(hits.prefix(rerank)), reranker) + hits.dropFirst(rerank)).prefix(count))
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

    private func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }
}
