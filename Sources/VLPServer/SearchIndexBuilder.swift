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
    /// The checkpoint folder the embedder's weights came from, recorded for `vlp serve`.
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
        public var indexed: Int
        /// Images left out, with where and why (the reader's own skips included).
        public var skipped: [SkippedRecord]
        public var seconds: Double
    }

    /// Indexes every image of `source` into `destination` (which must not exist unless
    /// `overwrite`).
    public func build(from source: IndexSource, into destination: String, overwrite: Bool = false) throws -> Report {
        let start = Date()
        let manager = FileManager.default
        let target = URL(fileURLWithPath: destination).standardizedFileURL
        if manager.fileExists(atPath: target.path) && !overwrite { throw SearchIndexError.destinationExists(target.path) }
        let staging = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial-\(getpid())")
        try? manager.removeItem(at: staging)
        do {
            try manager.createDirectory(at: staging.appendingPathComponent(SearchIndex.imagesFolder), withIntermediateDirectories: true)
        } catch {
            throw DatasetError.unwritable(staging.path, reason: error.localizedDescription)
        }
        defer { try? manager.removeItem(at: staging) }

        var entries: [IndexEntry] = []
        var rows: [[Float]] = []
        var skipped: [SkippedRecord] = []
        var pending: [(entry: IndexEntry, pixels: [Float])] = []
        var generator = SystemRandomNumberGenerator()    // evaluation preprocessing draws nothing
        let side = embedder.imageSize

        func flush() throws {
            guard !pending.isEmpty else { return }
            let pixels = try Tensor(pending.flatMap(\.pixels), shape: [pending.count, 3, side, side])
            rows += try TowerEmbedder.rows(embedder.imageFeatures(pixels: pixels))
            entries += pending.map(\.entry)
            pending.removeAll(keepingCapacity: true)
            progress?(entries.count, skipped.count)
        }

        while let item = try source.nextItem() {
            do {
                let (pixels, image) = try prepare(item, copyNumber: entries.count + pending.count, into: staging, generator: &generator)
                pending.append((IndexEntry(id: item.id, image: image, texts: item.texts), pixels))
            } catch let error as ImageError {
                skipped.append(SkippedRecord(file: source.path, line: nil, reason: "\(item.id): \(error)"))
            } catch let error as DatasetError {
                skipped.append(SkippedRecord(file: source.path, line: nil, reason: "\(item.id): \(error)"))
            }
            if pending.count == embedder.batchSize { try flush() }
        }
        try flush()
        skipped = source.skipped + skipped
        guard !rows.isEmpty else { throw SearchIndexError.noImages(source: source.path, skipped: skipped.count) }

        try writeVectors(rows, to: staging.appendingPathComponent(SearchIndex.vectorsFile))
        let texts = indexTexts ? entries.flatMap(\.texts) : []
        if !texts.isEmpty {
            try writeVectors(try TowerEmbedder.rows(embedder.textFeatures(texts)), to: staging.appendingPathComponent(SearchIndex.textVectorsFile))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var lines = Data()
        for entry in entries {
            lines.append(try encoder.encode(entry))
            lines.append(UInt8(ascii: "\n"))
        }
        try write(lines, to: staging.appendingPathComponent(SearchIndex.entriesFile))
        let manifest = IndexManifest(checkpoint: checkpoint, contextLength: embedder.maxLength, dimension: rows[0].count, factory: factory, count: entries.count,
                                     source: URL(fileURLWithPath: source.path).standardizedFileURL.path, skipped: skipped.count,
                                     textCount: texts.count, searchParameters: searchParameters)
        encoder.outputFormatting.insert(.prettyPrinted)
        try write(try encoder.encode(manifest), to: staging.appendingPathComponent(SearchIndex.manifestFile))
        try publish(staging, at: target)
        return Report(folder: target.path, indexed: entries.count, skipped: skipped, seconds: Date().timeIntervalSince(start))
    }

    /// A FAISS index of `rows` from the factory string (trained on them first when it needs it).
    private func writeVectors(_ rows: [[Float]], to url: URL) throws {
        let vectors = try VectorIndex(dimension: rows[0].count, factory: factory)
        if !vectors.isTrained { try vectors.train(rows) }
        try vectors.add(rows)
        if let searchParameters { try vectors.setSearchParameters(searchParameters) }
        try vectors.write(to: url)
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
