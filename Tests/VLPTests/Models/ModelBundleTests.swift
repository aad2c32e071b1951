import Foundation
import Torch
import XCTest
@testable import VLP

/// A checkpoint is a self-describing model bundle: opened from any folder, with no `assets/`
/// beside it, it prepares inputs and embeds exactly as the process that trained it; older
/// checkpoints still open, with a notice; a bad `preprocessing.json` is an error naming it.
final class ModelBundleTests: TorchTestCase {
    static let texts = ["红色的圆形在蓝色方块的左边", "a small green triangle above a yellow square"]

    /// Trains a tiny dual encoder two steps into `root/run`; returns the trainer and its data section.
    func trainTinyRun(in root: URL) throws -> (Trainer, TrainingDataDescription) {
        var data = TrainingDataDescription.scenes(size: 120, seed: 3)
        data.contextLength = 16
        let trainer = try Trainer(PretrainingRun(model: .named("r2d2-tiny-dual"), recipe: .align, data: data, steps: 2, batchSize: 8,
                                                 seed: 5, output: root.appendingPathComponent("run").path))
        trainer.log = { _ in }
        _ = try trainer.run()
        return (trainer, data)
    }

    /// Two rendered scenes of different sizes as PNG files (the pipeline resizes and crops them).
    func writeImages(in folder: URL) throws -> [String] {
        let corpus = try ScenesCorpus(seed: 4, imageSize: 48)
        return try (0..<2).map { i in
            guard case .pixels(let image)? = corpus.sample(.pretrain, index: i).image else { throw DatasetError.missingImage(sample: "\(i)") }
            let path = folder.appendingPathComponent("scene-\(i).png").path
            try Data(try ImageEncoder.png(image)).write(to: URL(fileURLWithPath: path))
            return path
        }
    }

    static func maxDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
        guard a.count == b.count, zip(a, b).allSatisfy({ $0.count == $1.count }) else { return .infinity }
        return zip(a, b).flatMap { zip($0, $1).map { abs($0 - $1) } }.max() ?? .infinity
    }

    /// `vlp embed … --json` output as rows.
    static func rows(fromJSONLines output: String) throws -> [[Float]] {
        try output.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            guard let values = object?["embedding"] as? [Double] else { throw ModelError.invalidInput(name: "json", reason: String(line)) }
            return values.map(Float.init)
        }
    }

    func testABundleEmbedsFromAnotherFolderWithoutAssetsAsTheTrainingProcessDid() throws {
        let root = try temporaryFolder("bundle")
        defer { try? FileManager.default.removeItem(at: root) }
        let (trainer, data) = try trainTinyRun(in: root)
        trainer.model.module.eval()
        let images = try writeImages(in: root)
        let trained = try TowerEmbedder(model: trainer.model, inputs: TrainingData.inputs(data, for: trainer.configuration))
        let expectedTexts = try TowerEmbedder.rows(trained.textFeatures(Self.texts))
        let expectedImages = try TowerEmbedder.rows(trained.imageFeatures(files: images))

        let folder = try TrainingCheckpoint.resolve(root.appendingPathComponent("run").path)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(ModelBundle.preprocessingFile).path))
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("tokenizer/vocab.txt")),
                       try Data(contentsOf: URL(fileURLWithPath: data.vocabularyFile)), "the vocabulary is copied into the bundle")

        // Another process, in an empty folder: no assets/ to fall back on.
        let elsewhere = root.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let run = root.appendingPathComponent("run").path
        let text = try runVLP(["embed", "text", "--checkpoint", run, "--json"] + Self.texts, in: elsewhere)
        XCTAssertEqual(text.status, 0, text.errors)
        XCTAssertFalse(text.errors.contains("warning"), text.errors)
        XCTAssertEqual(Self.maxDifference(try Self.rows(fromJSONLines: text.output), expectedTexts), 0, "texts embed bit for bit as in training")
        let image = try runVLP(["embed", "image", "--checkpoint", run, "--json"] + images, in: elsewhere)
        XCTAssertEqual(image.status, 0, image.errors)
        XCTAssertEqual(Self.maxDifference(try Self.rows(fromJSONLines: image.output), expectedImages), 0, "images embed bit for bit as in training")

        // And this process, from that folder.
        let home = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(elsewhere.path))
        defer { FileManager.default.changeCurrentDirectoryPath(home) }
        var notices: [String] = []
        let bundle = try ModelBundle.open(run, notice: { notices.append($0) })
        XCTAssertEqual(notices, [])
        XCTAssertEqual(bundle.preprocessing.text, .init(tokenizer: .bertChinese, vocabulary: "tokenizer/vocab.txt", contextLength: 16))
        XCTAssertEqual(bundle.preprocessing.image, .init(size: 32))
        XCTAssertNil(bundle.preprocessing.rerankWeight, "a dual encoder has no cross encoders")
        let reopened = try TowerEmbedder(bundle)
        XCTAssertEqual(Self.maxDifference(try TowerEmbedder.rows(reopened.textFeatures(Self.texts)), expectedTexts), 0)
        XCTAssertEqual(Self.maxDifference(try TowerEmbedder.rows(reopened.imageFeatures(files: images)), expectedImages), 0)
    }

    func testACheckpointWithoutPreprocessingOpensWithItsTrainingValuesAndANotice() throws {
        let root = try temporaryFolder("bundle-legacy")
        defer { try? FileManager.default.removeItem(at: root) }
        let configuration = try ModelConfigurationRegistry.load("r2d2-tiny")
        let model = try PretrainingModel(configuration)
        var state = TrainerState(step: 1, stage: 0, stageStep: 1, loaderPosition: LoaderPosition(seed: 1), badSteps: 0, seed: 1)
        state.contextLength = 24
        try TrainingCheckpoint.save(in: root, state: state, model: model.module, configuration: configuration, bundle: nil,
                                    optimizer: nil, objectives: [:], keep: 1)
        var notices: [String] = []
        let bundle = try ModelBundle.open(root.path, notice: { notices.append($0) })
        XCTAssertEqual(notices.count, 1)
        XCTAssertTrue(notices.first?.contains("has no preprocessing.json") ?? false, "\(notices)")
        XCTAssertEqual(bundle.inputs.contextLength, 24, "trainer.json's context length")
        XCTAssertEqual(bundle.inputs.imageSize, 32)
        XCTAssertEqual(bundle.preprocessing.rerankWeight, 1, "R2D2's unweighted sum")
        XCTAssertEqual(bundle.inputs.tokenizer.vocabularySize, 21128)
    }

    func testABadPreprocessingFileIsAnErrorNamingIt() throws {
        let root = try temporaryFolder("bundle-bad")
        defer { try? FileManager.default.removeItem(at: root) }
        let configuration = try ModelConfigurationRegistry.load("r2d2-tiny-dual")
        let model = try PretrainingModel(configuration)
        let good = ModelPreprocessing.trained(configuration: configuration, tokenizer: .bertChinese, contextLength: 16)
        let folder = try TrainingCheckpoint.save(
            in: root, state: TrainerState(step: 1, stage: 0, stageStep: 1, loaderPosition: LoaderPosition(seed: 1), badSteps: 0, seed: 1),
            model: model.module, configuration: configuration,
            bundle: (good, URL(fileURLWithPath: TokenizerKind.bertChinese.defaultFile)), optimizer: nil, objectives: [:], keep: 1)
        let file = folder.appendingPathComponent(ModelBundle.preprocessingFile)
        func expectError(_ change: (inout ModelPreprocessing) -> Void, _ fragment: String, line: UInt = #line) throws {
            var bad = good
            change(&bad)
            try JSONEncoder().encode(bad).write(to: file)
            XCTAssertThrowsError(try ModelBundle.open(root.path), line: line) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(error)", line: line)
                XCTAssertTrue("\(error)".contains(folder.lastPathComponent), "names the bundle: \(error)", line: line)
            }
        }
        try expectError({ $0.text.vocabulary = "../../vocab.txt" }, "inside the bundle folder")
        try expectError({ $0.image.size = 64 }, "the image tower takes 32")
        try expectError({ $0.text.contextLength = 65 }, "exceeds the text tower's 64 positions")
        try expectError({ $0.version = 99 }, "newer than this swift-vlp reads")
        try expectError({ $0.text.pooling = .endOfText }, "bert text tower pools by cls")
        try expectError({ $0.image.std = [0.2, 0, 0.2] }, "std positive")
        try Data(#"{"version": 1, "text": {"tokenizer": "sentencepiece"}}"#.utf8).write(to: file)
        XCTAssertThrowsError(try ModelBundle.open(root.path)) { XCTAssertTrue("\($0)".contains("preprocessing.json"), "\($0)") }
        try JSONEncoder().encode(good).write(to: file)
        XCTAssertNoThrow(try ModelBundle.open(root.path))
    }

    func testSquashAndCropAreTheirOwnPipelines() throws {
        var generator = SplitMix64(seed: 1)
        let wide = RGBImage(width: 64, height: 32, pixels: (0..<(64 * 32 * 3)).map { UInt8($0 % 251) })
        let crop = try ModelPreprocessing.Image(size: 16).pipeline()(wide, using: &generator)
        let squash = try ModelPreprocessing.Image(size: 16, resize: .squash).pipeline()(wide, using: &generator)
        XCTAssertEqual(crop.shape, [3, 16, 16])
        XCTAssertEqual(squash.shape, [3, 16, 16])
        XCTAssertNotEqual(crop.values, squash.values, "squash keeps the whole width, crop its centre")
        let reference = try ImagePipeline.clipEvaluation(size: 16)(wide, using: &generator)
        XCTAssertEqual(crop.values, reference.values, "crop is CLIP's evaluation preprocessing")
        let preprocessing = ModelPreprocessing(text: .init(tokenizer: .clip, vocabulary: "tokenizer/bpe_simple_vocab_16e6.txt.gz", contextLength: 77,
                                                           pooling: .endOfText),
                                               image: .init(size: 224, resize: .squash, pooling: .average), rerankWeight: 0.5)
        XCTAssertEqual(try JSONDecoder().decode(ModelPreprocessing.self, from: JSONEncoder().encode(preprocessing)), preprocessing)
    }
}
