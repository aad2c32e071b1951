import Foundation
import Torch
import XCTest
@testable import VLP

/// `TowerEmbedder`: every image entry point gives the same features, batching and padding do
/// not change them, and what cannot be embedded is a clear error.
final class TowerEmbedderTests: TorchTestCase {
    static func model(_ name: String = "r2d2-tiny-dual") throws -> PretrainingModel {
        manualSeed(11)
        let model = try PretrainingModel(try ModelConfigurationRegistry.load(name))
        model.module.eval()
        return model
    }

    /// What training prepares inputs with: the Chinese-CLIP tokenizer, 32 tokens, CLIP's evaluation pipeline.
    static func inputs(_ model: PretrainingModel) throws -> InputPipeline {
        let size = model.configuration.vision.imageSize
        return InputPipeline(tokenizer: try BertTokenizer.chineseCLIP(), contextLength: 32,
                             images: try ImagePipeline.clipEvaluation(size: size), imageSize: size)
    }

    static func embedder(_ name: String = "r2d2-tiny-dual", batchSize: Int = 32) throws -> TowerEmbedder {
        let model = try model(name)
        return try TowerEmbedder(model: model, inputs: inputs(model), batchSize: batchSize)
    }

    static func images(count: Int) -> [RGBImage] {
        var rng = SplitMix64(seed: 5, stream: "embedder-images", index: 0)
        return (0..<count).map { i in
            let (width, height) = (40 + 7 * i, 33 + 5 * i)
            return RGBImage(width: width, height: height, pixels: (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        }
    }

    func assertClose(_ a: Tensor, _ b: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        let difference = zip(try a.floats(), try b.floats()).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThan(difference, 1e-5, what, file: file, line: line)
    }

    func testImageEntryPointsAgreeAndBatchingChangesNothing() throws {
        let embedder = try Self.embedder(batchSize: 2)
        let images = Self.images(count: 5)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tower-embedder-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let encoded = try images.map { try ImageEncoder.png($0) }
        let files = try encoded.enumerated().map { i, bytes -> String in
            let path = folder.appendingPathComponent("\(i).png").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }

        let decoded = try embedder.imageFeatures(images)
        XCTAssertEqual(decoded.shape, [5, embedder.model.configuration.embedDim])
        try assertClose(try embedder.imageFeatures(files: files), decoded, "files")
        try assertClose(try embedder.imageFeatures(encoded: encoded), decoded, "encoded bytes")
        var generator = SystemRandomNumberGenerator()
        let pixels = try images.flatMap { try embedder.pipeline($0, using: &generator).values }
        try assertClose(try embedder.imageFeatures(pixels: Tensor(pixels, shape: [5, 3, embedder.imageSize, embedder.imageSize])), decoded, "pixels")
        embedder.batchSize = 32
        try assertClose(try embedder.imageFeatures(images), decoded, "one batch")
        for row in try TowerEmbedder.rows(decoded) {
            XCTAssertEqual(sqrt(row.reduce(0) { $0 + $1 * $1 }), 1, accuracy: 1e-5, "features are L2-normalised")
        }
        // Different images get different features (the model is not constant).
        let rows = try TowerEmbedder.rows(decoded)
        XCTAssertLessThan(zip(rows[0], rows[1]).reduce(0) { $0 + $1.0 * $1.1 }, 0.99999)
    }

    func testTextFeaturesDoNotDependOnBatchOrPadding() throws {
        let embedder = try Self.embedder(batchSize: 8)
        let texts = ["猫", "一只橘猫趴在窗台上晒太阳，窗外是蓝天", "a dog running on the grass"]
        let together = try TowerEmbedder.rows(embedder.textFeatures(texts))
        embedder.batchSize = 1
        let alone = try TowerEmbedder.rows(embedder.textFeatures(texts))
        for (a, b) in zip(together, alone) {
            XCTAssertLessThan(zip(a, b).map { abs($0 - $1) }.max()!, 1e-5, "a short text padded in a batch embeds as it does alone")
        }
        XCTAssertLessThan(zip(together[0], together[1]).reduce(0) { $0 + $1.0 * $1.1 }, 0.99999)
    }

    func testWhatCannotBeEmbeddedIsAClearError() throws {
        XCTAssertThrowsError(try Self.embedder("imagebert-tiny")) { error in
            XCTAssertTrue("\(error)".contains("single-stream"), "\(error)")
        }
        let embedder = try Self.embedder()
        XCTAssertThrowsError(try embedder.textFeatures([])) { XCTAssertTrue("\($0)".contains("nothing to embed"), "\($0)") }
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("not-an-image-\(UUID()).jpg").path
        try Data("this is not a JPEG".utf8).write(to: URL(fileURLWithPath: bad))
        defer { try? FileManager.default.removeItem(atPath: bad) }
        XCTAssertThrowsError(try embedder.imageFeatures(files: [bad])) { XCTAssertTrue("\($0)".contains(bad), "\($0)") }
    }
}
