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
        try check(count, rerank: rerank)
        if rerank > 0 && target == .texts {
            throw SearchIndexError.invalidQuery("re-ranking scores image–text pairs; a text query for texts cannot be re-ranked")
        }
        return try queue.sync {
            let vector = try TowerEmbedder.rows(embedder.textFeatures([query]))[0]
            let hits = try index.search(vector, count: max(count, rerank), target: target)
            guard rerank > 0, let reranker else { return Array(hits.prefix(count)) }
            let top = Array(hits.prefix(rerank))
            let reordered = try reranker.rerank(text: query, hits: top, images: top.map { index.imageFile(of: $0.entry) })
            return Array((reordered + hits.dropFirst(rerank)).prefix(count))
        }
    }

    /// Images like an encoded image (JPEG, PNG, WebP), or the indexed texts that describe it,
    /// best first. With `rerank` K > 0 the first stage's top K texts are re-ordered by R2D2's
    /// cross encoders (image targets by similarity only).
    public func search(image bytes: [UInt8], count: Int, target: SearchIndex.Target = .images, rerank: Int = 0) throws -> [SearchIndex.Hit] {
        guard !bytes.isEmpty else { throw SearchIndexError.invalidQuery("the image is empty") }
        try check(count, rerank: rerank)
        if rerank > 0 && target == .images {
            throw SearchIndexError.invalidQuery("re-ranking scores image–text pairs; an image query for images cannot be re-ranked")
        }
        return try queue.sync {
            let vector: [Float]
            do {
                vector = try TowerEmbedder.rows(embedder.imageFeatures(encoded: [bytes], sources: ["the query image"]))[0]
            } catch let error as ImageError {
                throw SearchIndexError.invalidQuery("\(error)")
            }
            let hits = try index.search(vector, count: max(count, rerank), target: target)
            guard rerank > 0, let reranker else { return Array(hits.prefix(count)) }
            let reordered = try reranker.rerank(image: bytes, hits: Array(hits.prefix(rerank)))
            return Array((reordered + hits.dropFirst(rerank)).prefix(count))
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

    private func check(_ count: Int, rerank: Int) throws {
        guard (1...maximumCount).contains(count) else {
            throw SearchIndexError.invalidQuery("the result count must be in 1...\(maximumCount), not \(count)")
        }
        guard (0...maximumRerank).contains(rerank) else {
            throw SearchIndexError.invalidQuery("rerank must be in 0...\(maximumRerank), not \(rerank)")
        }
        if rerank > 0 && reranker == nil {
            throw SearchIndexError.invalidQuery("re-ranking needs R2D2's cross encoders; this index's model has none")
        }
    }

    private func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }
}
