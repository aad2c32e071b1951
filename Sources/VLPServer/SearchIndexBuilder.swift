import Foundation
import Torch
import VLP

/// Builds an index folder (see `SearchIndex`) from images: each image through the model's
/// image tower (evaluation preprocessing), the L2-normalised features into a FAISS index made
/// from a factory string. An image that does not read or decode is skipped, counted and
/// reported, never fatal. Everything is written into a staging folder beside the destination
/// and moved into place at the end, so an interrupted build leaves no half index.
public struct SearchIndexBuilder {
    public var embedder: TowerEmbedder
    /// The checkpoint folder the embedder's weights came from, recorded (as an absolute path)
    /// for `vlp serve`.
    public var checkpoint: String
    /// FAISS index-factory string; `Flat` is exact search.
    public var factory = "Flat"
    /// Also embed every entry's texts, for image→text search.
    public var indexTexts = false
    /// FAISS search-time parameters stored with the index ("efSearch=128" for HNSW, "nprobe=16"
    /// for IVF); nil keeps FAISS's defaults.
    public var searchParameters: String?
    /// Called after each batch with the images indexed and skipped so far.
    public var progress: ((_ indexed: Int, _ skipped: Int) -> Void)?

    public init(embedder: TowerEmbedder, checkpoint: String, factory: String = "Flat") {
        self.embedder = embedder
        self.checkpoint = checkpoint
        self.factory = factory
    }

    /// What a build did.
    public struct Report: Sendable {
        public var folder: String
        /// Images embedded by this build (by an append: the new ones).
        public var indexed: Int
        /// Images left out, with where and why (the reader's own skips included).
        public var skipped: [SkippedRecord]
        /// Appending: images of the source whose id the index already held, left as they were.
        public var alreadyIndexed = 0
        public var seconds: Double
        /// The index's manifest as published (its totals, after an append too).
        public var manifest: IndexManifest
    }

    /// Indexes every image of `source` into `destination` (which must not exist unless
    /// `overwrite`).
    public func build(from source: IndexSource, into destination: String, overwrite: Bool = false) throws -> Report {
        let start = Date()
        let target = URL(fileURLWithPath: destination).standardizedFileURL
        if FileManager.default.fileExists(atPath: target.path) && !overwrite { throw SearchIndexError.destinationExists(target.path) }
        let staging = try makeStaging(for: target)
        defer { try? FileManager.default.removeItem(at: staging) }
        var added = try embed(source, into: staging, firstCopy: 0, known: [])
        guard !added.rows.isEmpty else { throw SearchIndexError.noImages(source: source.path, skipped: added.skipped.count) }

        let vectors = try emptyIndex(trainedOn: added.rows)
        var textVectors: VectorIndex?
        let texts = indexTexts ? added.entries.flatMap(\.texts) : []
        if !texts.isEmpty {
            added.textRows = try TowerEmbedder.rows(embedder.textFeatures(texts))
            textVectors = try emptyIndex(trainedOn: added.textRows)
        }
        let manifest = IndexManifest(checkpoint: checkpointPath, contextLength: embedder.maxLength, dimension: added.rows[0].count, factory: factory,
                                     count: 0, source: Self.describe(source), skipped: 0,
                                     searchParameters: searchParameters)
        let published = try finish(staging, at: target, manifest: manifest, entries: [], vectors: vectors, textVectors: textVectors, adding: added)
        return Report(folder: target.path, indexed: added.entries.count, skipped: added.skipped, seconds: Date().timeIntervalSince(start),
                      manifest: published)
    }

    /// Adds the images of `source` whose ids `folder`'s index does not hold yet, with the same
    /// checkpoint, factory, text setting and search parameters it was built with. Old images
    /// are linked, not copied, into the new version, which replaces the old only when complete.
    public func append(from source: IndexSource, to folder: String) throws -> Report {
        let start = Date()
        let existing = try SearchIndex(folder: folder)
        let target = existing.folder
        let mine = checkpointPath
        guard existing.manifest.checkpoint == mine, existing.manifest.contextLength == embedder.maxLength else {
            throw SearchIndexError.invalidIndex(folder: target.path, reason: "it was built with \(existing.manifest.checkpoint) (context length \(existing.manifest.contextLength)); appending with \(mine) (context length \(embedder.maxLength)) would mix embeddings")
        }
        let staging = try makeStaging(for: target)
        defer { try? FileManager.default.removeItem(at: staging) }
        try linkImages(of: existing, into: staging)
        var added = try embed(source, into: staging, firstCopy: existing.entries.count, known: Set(existing.entries.map(\.id)))
        guard !added.rows.isEmpty else {
            return Report(folder: target.path, indexed: 0, skipped: added.skipped, alreadyIndexed: added.alreadyIndexed,
                          seconds: Date().timeIntervalSince(start), manifest: existing.manifest)
        }
        if existing.textVectors != nil {
            let texts = added.entries.flatMap(\.texts)
            added.textRows = texts.isEmpty ? [] : try TowerEmbedder.rows(embedder.textFeatures(texts))
        }
        var manifest = existing.manifest
        manifest.source += "; " + Self.describe(source)
        let published = try finish(staging, at: target, manifest: manifest, entries: existing.entries, vectors: existing.vectors,
                                   textVectors: existing.textVectors, adding: added)
        return Report(folder: target.path, indexed: added.entries.count, skipped: added.skipped, alreadyIndexed: added.alreadyIndexed,
                      seconds: Date().timeIntervalSince(start), manifest: published)
    }

    /// The checkpoint as manifests record it and appends compare it: an absolute path.
    private var checkpointPath: String { URL(fileURLWithPath: checkpoint).standardizedFileURL.path }

    /// An empty index from the factory string, trained on `rows` first when it needs training.
    private func emptyIndex(trainedOn rows: [[Float]]) throws -> VectorIndex {
        let index = try VectorIndex(dimension: rows[0].count, factory: factory)
        if !index.isTrained { try index.train(rows) }
        return index
    }

    /// A source as the manifest names it: an absolute path, or the name of in-memory samples.
    static func describe(_ source: IndexSource) -> String {
        FileManager.default.fileExists(atPath: source.path) ? URL(fileURLWithPath: source.path).standardizedFileURL.path : source.path
    }

    /// What one pass over a source embedded.
    private struct Embedded {
        var entries: [IndexEntry] = []
        var rows: [[Float]] = []
        var textRows: [[Float]] = []
        var skipped: [SkippedRecord] = []
        var alreadyIndexed = 0
    }

    /// Embeds the images of `source` whose ids are not `known`, in batches; copies of images
    /// without a file of their own are numbered from `firstCopy`.
    private func embed(_ source: IndexSource, into staging: URL, firstCopy: Int, known: Set<String>) throws -> Embedded {
        var result = Embedded()
        var pending: [(entry: IndexEntry, pixels: [Float])] = []
        var generator = SystemRandomNumberGenerator()    // evaluation preprocessing draws nothing
        let side = embedder.imageSize

        func flush() throws {
            guard !pending.isEmpty else { return }
            let pixels = try Tensor(pending.flatMap(\.pixels), shape: [pending.count, 3, side, side])
            result.rows += try TowerEmbedder.rows(embedder.imageFeatures(pixels: pixels))
            result.entries += pending.map(\.entry)
            pending.removeAll(keepingCapacity: true)
            progress?(result.entries.count, result.skipped.count)
        }

        while let item = try source.nextItem() {
            if known.contains(item.id) {
                result.alreadyIndexed += 1
                continue
            }
            do {
                let copyNumber = firstCopy + result.entries.count + pending.count
                let (pixels, image) = try prepare(item, copyNumber: copyNumber, into: staging, generator: &generator)
                pending.append((IndexEntry(id: item.id, image: image, texts: item.texts), pixels))
            } catch where error is ImageError || error is DatasetError {
                result.skipped.append(SkippedRecord(file: source.path, line: nil, reason: "\(item.id): \(error)"))
            }
            if pending.count == embedder.batchSize { try flush() }
        }
        try flush()
        result.skipped = source.skipped + result.skipped
        return result
    }

    /// Writes vectors (old ones plus the added), entries and manifest into the staging folder and
    /// moves it into place; returns the manifest written.
    private func finish(_ staging: URL, at target: URL, manifest: IndexManifest, entries: [IndexEntry], vectors: VectorIndex,
                        textVectors: VectorIndex?, adding added: Embedded) throws -> IndexManifest {
        try vectors.add(added.rows)
        if let searchParameters = manifest.searchParameters { try vectors.setSearchParameters(searchParameters) }
        try vectors.write(to: staging.appendingPathComponent(SearchIndex.vectorsFile))
        var textCount = 0
        if let textVectors {
            if !added.textRows.isEmpty { try textVectors.add(added.textRows) }
            if let searchParameters = manifest.searchParameters { try textVectors.setSearchParameters(searchParameters) }
            try textVectors.write(to: staging.appendingPathComponent(SearchIndex.textVectorsFile))
            textCount = textVectors.count
        }
        let all = entries + added.entries
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var lines = Data()
        for entry in all {
            lines.append(try encoder.encode(entry))
            lines.append(UInt8(ascii: "\n"))
        }
        try write(lines, to: staging.appendingPathComponent(SearchIndex.entriesFile))
        var manifest = manifest
        manifest.count = all.count
        manifest.textCount = textCount
        manifest.skipped += added.skipped.count
        manifest.created = ISO8601DateFormatter().string(from: Date())
        encoder.outputFormatting.insert(.prettyPrinted)
        try write(try encoder.encode(manifest), to: staging.appendingPathComponent(SearchIndex.manifestFile))
        try publish(staging, at: target)
        return manifest
    }

    /// A fresh hidden folder beside `target`, with its `images/`.
    private func makeStaging(for target: URL) throws -> URL {
        let staging = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial-\(getpid())")
        try? FileManager.default.removeItem(at: staging)
        do {
            try FileManager.default.createDirectory(at: staging.appendingPathComponent(SearchIndex.imagesFolder), withIntermediateDirectories: true)
        } catch {
            throw DatasetError.unwritable(staging.path, reason: error.localizedDescription)
        }
        return staging
    }

    /// The index's copied images, hard-linked into the staging folder (copied where links fail).
    private func linkImages(of index: SearchIndex, into staging: URL) throws {
        let manager = FileManager.default
        for entry in index.entries where !entry.image.hasPrefix("/") {
            let from = index.imageFile(of: entry), to = staging.appendingPathComponent(entry.image)
            do {
                do { try manager.linkItem(at: from, to: to) } catch { try manager.copyItem(at: from, to: to) }
            } catch {
                throw DatasetError.unwritable(to.path, reason: "cannot carry over \(from.path): \(error.localizedDescription)")
            }
        }
    }

    /// The item's preprocessed pixels, and the image path its entry records: the source's own
    /// file (absolute), or a copy written under `images/` when the source holds bytes or pixels.
    private func prepare(_ item: IndexSource.Item, copyNumber: Int, into staging: URL,
                         generator: inout SystemRandomNumberGenerator) throws -> ([Float], String) {
        switch item.image {
        case .file(let path):
            let pixels = try embedder.pipeline(contentsOf: path, using: &generator).values
            return (pixels, URL(fileURLWithPath: path).standardizedFileURL.path)
        case .encoded(let data):
            let pixels = try embedder.pipeline(encoded: [UInt8](data), source: item.id, using: &generator).values
            let container = ImageContainer.sniff(data) ?? .jpeg
            return (pixels, try copy(data, number: copyNumber, extension: container.fileExtension, into: staging))
        case .pixels(let image):
            let pixels = try embedder.pipeline(image, using: &generator).values
            return (pixels, try copy(Data(try ImageEncoder.png(image)), number: copyNumber, extension: "png", into: staging))
        }
    }

    private func copy(_ data: Data, number: Int, extension ext: String, into staging: URL) throws -> String {
        let relative = "\(SearchIndex.imagesFolder)/\(String(format: "%08d", number)).\(ext)"
        try write(data, to: staging.appendingPathComponent(relative))
        return relative
    }

    private func write(_ data: Data, to url: URL) throws {
        do {
            try data.write(to: url)
        } catch {
            throw DatasetError.unwritable(url.path, reason: error.localizedDescription)
        }
    }

    /// Moves the finished staging folder to `target`, replacing an old index only once the new
    /// one is complete.
    private func publish(_ staging: URL, at target: URL) throws {
        let manager = FileManager.default
        let old = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).old-\(getpid())")
        do {
            if manager.fileExists(atPath: target.path) { try manager.moveItem(at: target, to: old) }
            try manager.moveItem(at: staging, to: target)
            try? manager.removeItem(at: old)
        } catch {
            throw DatasetError.unwritable(target.path, reason: error.localizedDescription)
        }
    }
}
