import Foundation
import Torch
import VLP
import XCTest
@testable import VLPServer

/// Building and searching index folders: results equal brute-force cosine over the same
/// embeddings, every image finds itself, bad images are skipped and reported, and a broken
/// folder or a bad query is a clear error.
final class SearchIndexTests: TorchTestCase {
    func testImageFolderIndexSkipsTheCorruptImageAndSearchesLikeBruteForce() throws {
        let scratch = try SearchFixtures.folder(self, "folder")
        let checkpoint = try SearchFixtures.checkpoint(in: scratch)
        let (photos, files, corrupt) = try SearchFixtures.imageFolder(in: scratch, count: 9)
        let embedder = try TowerEmbedder(checkpoint: checkpoint, batchSize: 4)
        let builder = SearchIndexBuilder(embedder: embedder, checkpoint: checkpoint)
        let report = try builder.build(from: IndexSource.open(photos.path), into: scratch.appendingPathComponent("photos.index").path)
        XCTAssertEqual(report.indexed, 9)
        XCTAssertEqual(report.skipped.count, 1)
        XCTAssertTrue(report.skipped[0].description.contains("broken.jpg"), report.skipped[0].description)

        let index = try SearchIndex(folder: report.folder)
        XCTAssertEqual(index.manifest.count, 9)
        XCTAssertEqual(index.manifest.skipped, 1)
        XCTAssertEqual(index.entries.map { index.imageFile(of: $0).path }, files)
        XCTAssertTrue(index.entries.contains { $0.id == "more/scene-1.png" }, "ids are paths inside the folder")
        XCTAssertFalse(index.entries.contains { $0.image == corrupt })

        // A text query: the same ranking and scores as cosine over the embedder's own features.
        let images = try TowerEmbedder.rows(embedder.imageFeatures(files: files))
        let query = try TowerEmbedder.rows(embedder.textFeatures(["一个红色的圆形在蓝色方块的左边"]))[0]
        let brute = images.enumerated().map { ($0.offset, zip($0.element, query).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }
            .sorted { $0.1 > $1.1 }
        let hits = try index.search(query, count: 5)
        XCTAssertEqual(hits.map(\.position), brute.prefix(5).map(\.0))
        for (hit, expected) in zip(hits, brute) { XCTAssertEqual(hit.score, expected.1, accuracy: 1e-5) }
        // Every image is its own nearest neighbour.
        for (position, vector) in images.enumerated() {
            let top = try index.search(vector, count: 1)[0]
            XCTAssertEqual(top.position, position)
            XCTAssertEqual(top.score, 1, accuracy: 1e-4)
        }
        XCTAssertEqual(try index.search(query, count: 50).count, 9, "asking for more than the index holds gives all of it")
    }

    func testDatasetIndexKeepsTextsAndCopiesImagesThatHaveNoFile() throws {
        let scratch = try SearchFixtures.folder(self, "dataset")
        let checkpoint = try SearchFixtures.checkpoint(in: scratch)
        let samples = try SearchFixtures.scenes(count: 5)
        let data = scratch.appendingPathComponent("cnclip").path
        let writer = try DatasetFormat.cnclip.writer(folder: data, part: "valid", encode: { Data(try ImageEncoder.png($0)) })
        try writer.write(contentsOf: samples)
        try writer.finish()
        let builder = SearchIndexBuilder(embedder: try TowerEmbedder(checkpoint: checkpoint), checkpoint: checkpoint)
        let report = try builder.build(from: IndexSource.open(data, split: "valid"), into: scratch.appendingPathComponent("valid.index").path)
        XCTAssertEqual(report.indexed, 5)
        XCTAssertTrue(report.skipped.isEmpty, "\(report.skipped)")
        let index = try SearchIndex(folder: report.folder)
        for (entry, sample) in zip(index.entries, samples) {
            XCTAssertEqual(entry.id, sample.id)
            XCTAssertEqual(entry.texts, sample.positiveTexts.map(\.text))
            XCTAssertTrue(entry.image.hasPrefix("images/"), entry.image)
            guard case .pixels(let image)? = sample.image else { return XCTFail("scenes give pixels") }
            XCTAssertEqual(FileManager.default.contents(atPath: index.imageFile(of: entry).path), Data(try ImageEncoder.png(image)))
        }
    }

    func testIndexedTextsAnswerImageToTextQueriesLikeBruteForce() throws {
        let scratch = try SearchFixtures.folder(self, "texts")
        let checkpoint = try SearchFixtures.checkpoint(in: scratch)
        let samples = try SearchFixtures.scenes(count: 6)
        let embedder = try TowerEmbedder(checkpoint: checkpoint, batchSize: 4)
        var builder = SearchIndexBuilder(embedder: embedder, checkpoint: checkpoint)
        builder.indexTexts = true
        let report = try builder.build(from: .samples(samples, name: "scenes"), into: scratch.appendingPathComponent("t.index").path)
        let index = try SearchIndex(folder: report.folder)
        let texts = samples.flatMap { $0.positiveTexts.map(\.text) }
        XCTAssertEqual(index.manifest.textCount, texts.count)
        XCTAssertGreaterThan(texts.count, 6 * 4)

        // An image's features against every text: the same ranking and scores as cosine.
        let textRows = try TowerEmbedder.rows(embedder.textFeatures(texts))
        let image = try TowerEmbedder.rows(embedder.imageFeatures(samples.prefix(1).map { sample -> RGBImage in
            guard case .pixels(let image)? = sample.image else { fatalError("scenes give pixels") }
            return image
        }))[0]
        let brute = textRows.enumerated().map { ($0.offset, zip($0.element, image).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }.sorted { $0.1 > $1.1 }
        let hits = try index.search(image, count: 8, target: .texts)
        XCTAssertEqual(hits.map(\.text), brute.prefix(8).map { texts[$0.0] })
        for (hit, expected) in zip(hits, brute) { XCTAssertEqual(hit.score, expected.1, accuracy: 1e-5) }
        for hit in hits { XCTAssertTrue(hit.entry.texts.contains(hit.text ?? ""), "a text hit names the image it belongs to") }
        // Each text finds itself (or an identical text) first.
        for (row, text) in zip(textRows, texts).prefix(12) {
            let top = try index.search(row, count: 1, target: .texts)[0]
            XCTAssertEqual(top.text, text)
            XCTAssertEqual(top.score, 1, accuracy: 1e-4)
        }
        // An index of images only says how to get texts.
        let imagesOnly = try SearchFixtures.photoIndex(self, "no-texts", count: 2).index
        XCTAssertThrowsError(try SearchIndex(folder: imagesOnly).search(image, count: 1, target: .texts)) {
            XCTAssertTrue("\($0)".contains("--texts"), "\($0)")
        }
    }

    func testInMemorySamplesAreIndexedAndASampleWithoutImageIsASkip() throws {
        let scratch = try SearchFixtures.folder(self, "memory")
        let checkpoint = try SearchFixtures.checkpoint(in: scratch)
        var samples = try SearchFixtures.scenes(count: 4)
        samples[1].image = nil
        let builder = SearchIndexBuilder(embedder: try TowerEmbedder(checkpoint: checkpoint), checkpoint: checkpoint)
        let report = try builder.build(from: .samples(samples, name: "scenes"), into: scratch.appendingPathComponent("m.index").path)
        XCTAssertEqual(report.indexed, 3)
        XCTAssertEqual(report.skipped.map(\.description), ["scenes: sample \(samples[1].id) has no image"])
        let index = try SearchIndex(folder: report.folder)
        XCTAssertEqual(index.entries.map(\.id), [samples[0].id, samples[2].id, samples[3].id])
        XCTAssertEqual(index.entries.map(\.image), ["images/00000000.png", "images/00000001.png", "images/00000002.png"])
        XCTAssertEqual(index.manifest.contextLength, ModelPreprocessing.legacyContextLength, "a checkpoint that records no context length")
    }

    func testAnExistingIndexIsReplacedOnlyWhenAskedAndNothingIsLeftBehind() throws {
        let scratch = try SearchFixtures.folder(self, "replace")
        let checkpoint = try SearchFixtures.checkpoint(in: scratch)
        let (photos, _, _) = try SearchFixtures.imageFolder(in: scratch, count: 3)
        let destination = scratch.appendingPathComponent("photos.index").path
        let builder = SearchIndexBuilder(embedder: try TowerEmbedder(checkpoint: checkpoint), checkpoint: checkpoint, factory: "HNSW16")
        _ = try builder.build(from: IndexSource.open(photos.path), into: destination)
        XCTAssertThrowsError(try builder.build(from: IndexSource.open(photos.path), into: destination)) {
            XCTAssertTrue("\($0)".contains("--overwrite"), "\($0)")
        }
        let again = try builder.build(from: IndexSource.open(photos.path), into: destination, overwrite: true)
        XCTAssertEqual(again.indexed, 3)
        XCTAssertEqual(try SearchIndex(folder: destination).manifest.factory, "HNSW16")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [], "no staging or old folders remain")

        // Search parameters are checked against the index type before anything is published.
        var tuned = builder
        tuned.searchParameters = "efSearch=64"
        let hnsw = try tuned.build(from: IndexSource.open(photos.path), into: scratch.appendingPathComponent("hnsw.index").path)
        XCTAssertEqual(try SearchIndex(folder: hnsw.folder).manifest.searchParameters, "efSearch=64")
        tuned.factory = "Flat"
        XCTAssertThrowsError(try tuned.build(from: IndexSource.open(photos.path), into: scratch.appendingPathComponent("flat.index").path)) {
            XCTAssertTrue("\($0)".contains("efSearch=64"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("flat.index").path))

        let empty = scratch.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: empty.appendingPathComponent("bad.png"))
        XCTAssertThrowsError(try builder.build(from: IndexSource.open(empty.path), into: scratch.appendingPathComponent("none.index").path)) {
            XCTAssertTrue("\($0)".contains("no readable images") && "\($0)".contains("1 skipped"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("none.index").path))
    }

    func testAppendingAddsOnlyNewImagesAndKeepsTheOldOnesSearchable() throws {
        let scratch = try SearchFixtures.folder(self, "append")
        let checkpoint = try SearchFixtures.checkpoint(in: scratch)
        let samples = try SearchFixtures.scenes(count: 7)
        let embedder = try TowerEmbedder(checkpoint: checkpoint)
        var builder = SearchIndexBuilder(embedder: embedder, checkpoint: checkpoint, factory: "HNSW16")
        builder.indexTexts = true
        builder.searchParameters = "efSearch=40"
        let folder = scratch.appendingPathComponent("grow.index").path
        _ = try builder.build(from: .samples(Array(samples.prefix(4)), name: "first"), into: folder)
        let report = try builder.append(from: .samples(Array(samples.suffix(5)), name: "second"), to: folder)
        XCTAssertEqual(report.indexed, 3)
        XCTAssertEqual(report.alreadyIndexed, 2)

        let index = try SearchIndex(folder: folder)
        XCTAssertEqual(report.manifest, index.manifest, "the report carries the manifest it published")
        XCTAssertEqual(index.entries.map(\.id), samples.map(\.id))
        XCTAssertEqual(index.entries.map(\.image), (0..<7).map { String(format: "images/%08d.png", $0) })
        XCTAssertEqual(index.manifest.textCount, samples.flatMap(\.positiveTexts).count)
        XCTAssertEqual(index.manifest.factory, "HNSW16")
        XCTAssertEqual(index.manifest.searchParameters, "efSearch=40")
        XCTAssertTrue(index.manifest.source.hasSuffix("first; second"), index.manifest.source)
        // Every image, old or new, finds itself; its copy is the right image.
        for (position, sample) in samples.enumerated() {
            guard case .pixels(let image)? = sample.image else { return XCTFail("scenes give pixels") }
            XCTAssertEqual(FileManager.default.contents(atPath: index.imageFile(of: index.entries[position]).path), Data(try ImageEncoder.png(image)))
            let vector = try TowerEmbedder.rows(embedder.imageFeatures([image]))[0]
            XCTAssertEqual(try index.search(vector, count: 1)[0].position, position)
        }
        let newText = samples[6].positiveTexts[0].text
        let textVector = try TowerEmbedder.rows(embedder.textFeatures([newText]))[0]
        XCTAssertEqual(try index.search(textVector, count: 1, target: .texts)[0].text, newText, "the appended texts are searchable")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [])
        // Nothing new: nothing rewritten. Another checkpoint: refused.
        XCTAssertEqual(try builder.append(from: .samples(samples, name: "again"), to: folder).indexed, 0)
        let other = try SearchFixtures.checkpoint(in: scratch, seed: 8)
        let otherBuilder = SearchIndexBuilder(embedder: try TowerEmbedder(checkpoint: other), checkpoint: other)
        XCTAssertThrowsError(try otherBuilder.append(from: .samples(samples, name: "x"), to: folder)) {
            XCTAssertTrue("\($0)".contains("would mix embeddings"), "\($0)")
        }
    }

    func testABrokenIndexFolderIsAnErrorNamingWhatIsWrong() throws {
        let folder = try SearchFixtures.photoIndex(self, "broken", count: 3).index
        let entries = URL(fileURLWithPath: folder).appendingPathComponent(SearchIndex.entriesFile)
        let lines = try String(contentsOf: entries, encoding: .utf8).split(separator: "\n")
        try (lines.dropLast().joined(separator: "\n") + "\n").write(to: entries, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SearchIndex(folder: folder)) {
            XCTAssertTrue("\($0)".contains("says 3 images") && "\($0)".contains("holds 2"), "\($0)")
        }
        try "{\"id\": 3}\n".write(to: entries, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SearchIndex(folder: folder)) { XCTAssertTrue("\($0)".contains("entries.jsonl:1"), "\($0)") }
        try FileManager.default.removeItem(at: URL(fileURLWithPath: folder).appendingPathComponent(SearchIndex.manifestFile))
        XCTAssertThrowsError(try SearchIndex(folder: folder)) { XCTAssertTrue("\($0)".contains("vlp index"), "\($0)") }
    }

    func testTheEngineAnswersTextAndImageQueriesAndRejectsBadOnes() throws {
        let (folder, files, checkpoint) = try SearchFixtures.photoIndex(self, "engine", count: 6)
        let engine = try SearchEngine(indexFolder: folder)
        XCTAssertEqual(try engine.search(text: "a blue square", count: 4).count, 4)
        let bytes = [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: files[2])))
        let top = try engine.search(image: bytes, count: 1)[0]
        XCTAssertEqual(engine.index.imageFile(of: top.entry).path, files[2])
        for (query, expected) in [({ try engine.search(text: "  ", count: 3) }, "text is empty"),
                                  ({ try engine.search(text: "cat", count: 0) }, "1...1000"),
                                  ({ try engine.search(image: Array("not an image".utf8), count: 3) }, "query image")] as [(() throws -> [SearchIndex.Hit], String)] {
            XCTAssertThrowsError(try query()) { XCTAssertTrue("\($0)".contains(expected), "\($0) should mention \(expected)") }
        }
        // A checkpoint whose features have another width cannot search this index.
        let other = try SearchFixtures.checkpoint(in: URL(fileURLWithPath: checkpoint).deletingLastPathComponent(), embedDim: 32)
        XCTAssertThrowsError(try SearchEngine(indexFolder: folder, checkpoint: other)) {
            XCTAssertTrue("\($0)".contains("width-64") && "\($0)".contains("width 32"), "\($0)")
        }
    }
}
