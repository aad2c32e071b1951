import ArgumentParser
import Foundation
import Torch
import VLP
import VLPServer

/// `vlp index`: embeds images with a trained checkpoint's image tower into a FAISS index folder
/// that `vlp serve` and `vlp search` query.
struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Embed images with a trained checkpoint into a FAISS search index (for vlp serve / vlp search).",
        discussion: """
            --images is a folder of image files (searched at any depth) or a dataset in any format \
            vlp data reads; a dataset's texts are kept to show beside each image. Images that do \
            not read or decode are skipped and listed. The index folder holds manifest.json, \
            vectors.faiss, entries.jsonl and images/ (copies of images that had no file of their \
            own); it appears only when complete.

              vlp index --checkpoint runs/r2d2-tiny --images photos/ --out photos.index
              vlp index --checkpoint runs/r2d2-tiny --images data/cnclip --split valid --out valid.index --factory HNSW32
            """)

    @Option(help: "A checkpoint folder (step-*), or a run folder (its latest checkpoint); R2D2 or a dual encoder.")
    var checkpoint: String

    @Option(help: "A folder of images, or a dataset.")
    var images: String

    @OptionGroup var dataset: DatasetOptions

    @Option(help: "The index folder to write.")
    var out: String

    @Option(help: "FAISS index-factory string: Flat (exact), HNSW32, IVF256,Flat, IVF256,PQ16, …")
    var factory = "Flat"

    @Option(help: "Images per forward pass.")
    var batchSize = 32

    @Option(help: "Tokens per text query, special tokens included (default: the context length the model trained with, from its bundle).")
    var contextLength: Int?

    @Option(help: "FAISS search-time parameters stored with the index: efSearch=N for HNSW, nprobe=N for IVF.")
    var searchParams: String?

    @Flag(help: "Also index the images' texts (a dataset's), for image→text search (--target texts).")
    var texts = false

    @OptionGroup var target: DeviceOption

    @Flag(help: "Replace an existing index folder.")
    var overwrite = false

    @Flag(help: "Add the images whose ids the existing index folder lacks (same checkpoint; its factory, texts and search parameters).")
    var append = false

    func validate() throws {
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if append && overwrite { throw ValidationError("give --append or --overwrite, not both") }
        if let contextLength, contextLength < 2 { throw ValidationError("--context-length must leave room for [CLS] and [SEP]") }
    }

    func run() throws {
        let pinned = try TrainingCheckpoint.resolve(checkpoint).standardizedFileURL.path
        let embedder = try TowerEmbedder(checkpoint: pinned, batchSize: batchSize, maxLength: contextLength, device: target.device)
        let source = try IndexSource.open(images, format: dataset.format, split: dataset.split)
        var builder = SearchIndexBuilder(embedder: embedder, checkpoint: pinned, factory: factory)
        builder.indexTexts = texts
        builder.searchParameters = searchParams
        var lastReport = Date()
        builder.progress = { indexed, skipped in
            guard Date().timeIntervalSince(lastReport) >= 5 else { return }
            lastReport = Date()
            FileHandle.standardError.write(Data("indexed \(indexed) images (\(skipped) skipped)\n".utf8))
        }
        let appending = append && FileManager.default.fileExists(atPath: out)
        let report = appending ? try builder.append(from: source, to: out) : try builder.build(from: source, into: out, overwrite: overwrite)
        if appending { print("\(report.alreadyIndexed) images were already in the index") }
        let rate = Double(report.indexed) / max(report.seconds, 1e-9)
        let manifest = report.manifest
        if manifest.textCount > 0 { print("the index holds \(manifest.count) images and \(manifest.textCount) texts") }
        print("indexed \(report.indexed) images into \(report.folder) in \(String(format: "%.1f", report.seconds)) s (\(String(format: "%.1f", rate)) images/s)")
        if !report.skipped.isEmpty {
            print("skipped \(report.skipped.count):")
            for record in report.skipped.prefix(20) { print("  \(record)") }
            if report.skipped.count > 20 { print("  … and \(report.skipped.count - 20) more") }
        }
    }
}
