import Foundation
import Torch
import VLP
import VLPServer
import XCTest

/// A real checkpoint (random weights, saved the way training saves) and real images for the
/// search tests: rendered scenes from the built-in corpus, so images differ in content.
enum SearchFixtures {
    /// A temporary folder, removed by the test's teardown.
    static func folder(_ test: XCTestCase, _ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vlp-search-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// A randomly initialised tiny dual encoder saved as a run folder; returns the run folder.
    static func checkpoint(in folder: URL, configuration name: String = "r2d2-tiny-dual", embedDim: Int? = nil, seed: UInt64 = 7) throws -> String {
        var configuration = try ModelConfigurationRegistry.load(name)
        if let embedDim { configuration.embedDim = embedDim }
        manualSeed(seed)
        let model = try PretrainingModel(configuration)
        model.module.eval()
        let run = folder.appendingPathComponent("run-\(name)-\(configuration.embedDim)-\(seed)")
        try TrainingCheckpoint.save(in: run.appendingPathComponent("checkpoints"),
                                    state: TrainerState(step: 1, stage: 0, stageStep: 1, loaderPosition: LoaderPosition(seed: 1), badSteps: 0, seed: 1),
                                    model: model.module, configuration: configuration,
                                bundle: (ModelPreprocessing.trained(configuration: configuration, tokenizer: .bertChinese, contextLength: 32),
                                         URL(fileURLWithPath: TokenizerKind.bertChinese.defaultFile)),
                                optimizer: nil, objectives: [:], keep: 1)
        return run.path
    }

    static func scenes(count: Int) throws -> [Sample] {
        let corpus = try ScenesCorpus(seed: 21, imageSize: 48)
        return (0..<count).map { corpus.sample(.pretrain, index: $0) }
    }

    /// `count` scene images as PNG files, some in a subfolder, plus one corrupt `.jpg` and one
    /// text file that is not an image. Returns the folder and the image files in path order.
    static func imageFolder(in folder: URL, count: Int) throws -> (folder: URL, files: [String], corrupt: String) {
        let root = folder.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("more"), withIntermediateDirectories: true)
        var files: [String] = []
        for (i, sample) in try scenes(count: count).enumerated() {
            guard case .pixels(let image)? = sample.image else { throw DatasetError.missingImage(sample: sample.id) }
            let path = root.appendingPathComponent(i % 2 == 0 ? "scene-\(i).png" : "more/scene-\(i).png").path
            try Data(try ImageEncoder.png(image)).write(to: URL(fileURLWithPath: path))
            files.append(path)
        }
        let corrupt = root.appendingPathComponent("broken.jpg").path
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 1, 2, 3]).write(to: URL(fileURLWithPath: corrupt))
        try Data("not an image".utf8).write(to: root.appendingPathComponent("notes.txt"))
        return (root, files.sorted(), corrupt)
    }

    /// A checkpoint, an image folder of `count` scenes (and a corrupt file) and a Flat index of
    /// it; returns the index folder, the image files and the checkpoint.
    static func photoIndex(_ test: XCTestCase, _ name: String, count: Int) throws -> (index: String, files: [String], checkpoint: String) {
        let scratch = try folder(test, name)
        let checkpoint = try checkpoint(in: scratch)
        let (photos, files, _) = try imageFolder(in: scratch, count: count)
        let builder = SearchIndexBuilder(embedder: try TowerEmbedder(checkpoint: checkpoint), checkpoint: checkpoint)
        let index = try builder.build(from: IndexSource.open(photos.path), into: scratch.appendingPathComponent("photos.index").path).folder
        return (index, files, checkpoint)
    }
}
