import Foundation

/// A built index folder, opened for search: `manifest.json`, `vectors.faiss` (the FAISS index of
/// L2-normalised image features, so inner product is cosine similarity), `entries.jsonl` (one
/// entry per vector, in vector order), `images/` (copies of images that had no file of
/// their own in the source) and, when texts were indexed, `texts.faiss` (every entry's texts,
/// in entry order, for image→text search). `SearchIndexBuilder` writes it; the folder is checked as a whole
/// on opening, so a half-copied or mismatched folder is an error, not wrong results.
public final class SearchIndex: @unchecked Sendable {
    public static let manifestFile = "manifest.json"
    public static let vectorsFile = "vectors.faiss"
    public static let entriesFile = "entries.jsonl"
    public static let imagesFolder = "images"
    public static let textVectorsFile = "texts.faiss"

    /// What a query looks for: images, or the texts of the indexed images.
    public enum Target: String, Sendable, CaseIterable {
        case images, texts
    }

    public let folder: URL
    public let manifest: IndexManifest
    public let entries: [IndexEntry]
    public let vectors: VectorIndex
    /// The texts' vectors, nil when the index holds images only.
    public let textVectors: VectorIndex?
    /// For each text vector: its entry's position and the text's index among the entry's texts.
    public let textOwners: [(entry: Int, text: Int)]

    /// One result: the entry's position in the index, the entry, its score (the cosine
    /// similarity to the query, plus `match` when re-ranked), for a text search the text that
    /// matched, and after re-ranking the cross encoders' match probability.
    public struct Hit: Equatable, Sendable {
        public var position: Int
        public var entry: IndexEntry
        public var score: Float
        public var text: String?
        public var match: Float?
    }

    public init(folder path: String) throws {
        folder = URL(fileURLWithPath: path).standardizedFileURL
        let name = folder.path
        guard let manifestData = FileManager.default.contents(atPath: folder.appendingPathComponent(Self.manifestFile).path) else {
            throw SearchIndexError.invalidIndex(folder: name, reason: "no \(Self.manifestFile) (build one with `vlp index`)")
        }
        do {
            manifest = try JSONDecoder().decode(IndexManifest.self, from: manifestData)
        } catch {
            throw SearchIndexError.invalidIndex(folder: name, reason: "\(Self.manifestFile) does not parse: \(error)")
        }
        guard manifest.format == IndexManifest.formatName, manifest.version == IndexManifest.currentVersion else {
            throw SearchIndexError.invalidIndex(folder: name, reason: "\(Self.manifestFile) is \(manifest.format) version \(manifest.version); this build reads \(IndexManifest.formatName) version \(IndexManifest.currentVersion)")
        }
        entries = try Self.readEntries(folder.appendingPathComponent(Self.entriesFile))
        vectors = try VectorIndex.read(from: folder.appendingPathComponent(Self.vectorsFile))
        guard entries.count == manifest.count, vectors.count == manifest.count else {
            throw SearchIndexError.invalidIndex(folder: name, reason: "the manifest says \(manifest.count) images, \(Self.entriesFile) holds \(entries.count) and \(Self.vectorsFile) \(vectors.count)")
        }
        guard vectors.dimension == manifest.dimension else {
            throw SearchIndexError.invalidIndex(folder: name, reason: "the manifest says width \(manifest.dimension), \(Self.vectorsFile) has \(vectors.dimension)")
        }
        textOwners = entries.enumerated().flatMap { position, entry in entry.texts.indices.map { (entry: position, text: $0) } }
        if manifest.textCount > 0 {
            let texts = try VectorIndex.read(from: folder.appendingPathComponent(Self.textVectorsFile))
            guard texts.count == manifest.textCount, textOwners.count == manifest.textCount, texts.dimension == manifest.dimension else {
                throw SearchIndexError.invalidIndex(folder: name, reason: "the manifest says \(manifest.textCount) texts of width \(manifest.dimension); \(Self.entriesFile) holds \(textOwners.count) and \(Self.textVectorsFile) \(texts.count) of width \(texts.dimension)")
            }
            textVectors = texts
        } else {
            textVectors = nil
        }
    }

    /// Sets FAISS search-time parameters ("efSearch=128", "nprobe=16") on the image and text
    /// vectors, overriding what the index was written with.
    public func setSearchParameters(_ parameters: String) throws {
        try vectors.setSearchParameters(parameters)
        try textVectors?.setSearchParameters(parameters)
    }

    /// The `count` images (or texts) nearest to an L2-normalised query vector, best first.
    public func search(_ query: [Float], count: Int, target: Target = .images) throws -> [Hit] {
        try search([query], count: count, target: target)[0]
    }

    /// `search(_:count:target:)` for several query vectors in one FAISS call.
    public func search(_ queries: [[Float]], count: Int, target: Target = .images) throws -> [[Hit]] {
        guard count >= 1 else { throw SearchIndexError.invalidQuery("the result count must be at least 1, not \(count)") }
        if let query = queries.first(where: { $0.count != manifest.dimension }) {
            throw SearchIndexError.invalidQuery("a query vector of width \(query.count); the index holds width \(manifest.dimension)")
        }
        switch target {
        case .images:
            return try vectors.search(queries, count: min(count, entries.count)).map { neighbors in
                neighbors.map { Hit(position: $0.id, entry: entries[$0.id], score: $0.score) }
            }
        case .texts:
            guard let textVectors else {
                throw SearchIndexError.invalidQuery("this index holds no texts to search (build it with `vlp index --texts`)")
            }
            return try textVectors.search(queries, count: min(count, textOwners.count)).map { neighbors in
                neighbors.map {
                    let owner = textOwners[$0.id], entry = entries[owner.entry]
                    return Hit(position: owner.entry, entry: entry, score: $0.score, text: entry.texts[owner.text])
                }
            }
        }
    }

    /// The file of an entry's image.
    public func imageFile(of entry: IndexEntry) -> URL {
        entry.image.hasPrefix("/") ? URL(fileURLWithPath: entry.image) : folder.appendingPathComponent(entry.image)
    }

    static func readEntries(_ url: URL) throws -> [IndexEntry] {
        let folder = url.deletingLastPathComponent().path
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw SearchIndexError.invalidIndex(folder: folder, reason: "no \(url.lastPathComponent)")
        }
        let decoder = JSONDecoder()
        var entries: [IndexEntry] = []
        for (number, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            do {
                entries.append(try decoder.decode(IndexEntry.self, from: Data(line)))
            } catch {
                throw SearchIndexError.invalidIndex(folder: folder, reason: "\(url.lastPathComponent):\(number + 1) is not an entry: \(error)")
            }
        }
        return entries
    }
}
