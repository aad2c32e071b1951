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
    private let queue = DispatchQueue(label: "vlp.search-engine")

    public init(index: SearchIndex, embedder: TowerEmbedder) throws {
        let width = embedder.model.configuration.embedDim
        guard width == index.manifest.dimension else {
            throw SearchIndexError.invalidIndex(folder: index.folder.path,
                                                reason: "it holds width-\(index.manifest.dimension) features; the model embeds width \(width) (was it built with another checkpoint?)")
        }
        self.index = index
        self.embedder = embedder
    }

    /// Opens an index folder with the checkpoint and text length its manifest names, or
    /// `checkpoint` instead.
    public convenience init(indexFolder: String, checkpoint: String? = nil) throws {
        let index = try SearchIndex(folder: indexFolder)
        try self.init(index: index, embedder: TowerEmbedder(checkpoint: checkpoint ?? index.manifest.checkpoint,
                                                            maxLength: index.manifest.contextLength))
    }

    /// Images (or the indexed texts) for a text query, best first.
    public func search(text: String, count: Int, target: SearchIndex.Target = .images) throws -> [SearchIndex.Hit] {
        let query = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !query.isEmpty else { throw SearchIndexError.invalidQuery("the text is empty") }
        try check(count)
        let vector = try queue.sync { try TowerEmbedder.rows(embedder.textFeatures([query]))[0] }
        return try index.search(vector, count: count, target: target)
    }

    /// Images like an encoded image (JPEG, PNG, WebP), or the indexed texts that describe it,
    /// best first.
    public func search(image bytes: [UInt8], count: Int, target: SearchIndex.Target = .images) throws -> [SearchIndex.Hit] {
        guard !bytes.isEmpty else { throw SearchIndexError.invalidQuery("the image is empty") }
        try check(count)
        let vector: [Float] = try queue.sync {
            do {
                return try TowerEmbedder.rows(embedder.imageFeatures(encoded: [bytes], sources: ["the query image"]))[0]
            } catch let error as ImageError {
                throw SearchIndexError.invalidQuery("\(error)")
            }
        }
        return try index.search(vector, count: count, target: target)
    }

    /// `search(text:count:)` off the caller's thread, for async servers.
    public func search(text: String, count: Int, target: SearchIndex.Target = .images) async throws -> [SearchIndex.Hit] {
        try await offload { try self.search(text: text, count: count, target: target) }
    }

    /// `search(image:count:)` off the caller's thread, for async servers.
    public func search(image bytes: [UInt8], count: Int, target: SearchIndex.Target = .images) async throws -> [SearchIndex.Hit] {
        try await offload { try self.search(image: bytes, count: count, target: target) }
    }

    private func check(_ count: Int) throws {
        guard (1...maximumCount).contains(count) else {
            throw SearchIndexError.invalidQuery("the result count must be in 1...\(maximumCount), not \(count)")
        }
    }

    private func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }
}
