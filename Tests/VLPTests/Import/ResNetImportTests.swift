import Foundation
import Torch
import XCTest
@testable import VLP

/// The ModifiedResNet fixtures of scripts/reference/make_resnet_fixtures.py: a small cn_clip RN50-
/// style model (ResNet width 4, blocks 2-1-1-1, 64 px, + the cn_clip fixture's BERT) and a small
/// open_clip one (the same tower + a CLIP text transformer), every parameter and batch-norm
/// statistic perturbed, and their outputs (with the cn_clip tower's stage activations).
enum ResNetFixtures: ReferenceFixtures {
    static let directory = ModelFixtures.repositoryRoot.appendingPathComponent("Tests/VLPTests/Fixtures/resnet")
    /// cn_clip's training layout, `module.` keys, fp32.
    static var chineseCLIP: URL { directory.appendingPathComponent("cnclip-rn50.pt") }
    /// open_clip's plain state dict, fp32.
    static var openCLIP: URL { directory.appendingPathComponent("openclip-rn50.pt") }

    static func options(_ family: ImportFamily) throws -> ImportOptions {
        let (config, vocabulary) = family == .chineseCLIP ? ("config-cnclip.json", "vocab.txt") : ("config-openclip.json", "bpe-cut.txt.gz")
        let file = directory.appendingPathComponent(config)
        return ImportOptions(configuration: try ModelConfigurationRegistry.load(contentsOf: file), configurationSource: file.path,
                             vocabulary: directory.appendingPathComponent(vocabulary))
    }

    /// The texts of `family`'s reference (each family's fixture texts).
    static func texts(_ metadata: [String: String], _ family: ImportFamily) throws -> [String] {
        let key = family == .chineseCLIP ? "cnclip_texts" : "openclip_texts"
        return try JSONDecoder().decode([String].self, from: Data((metadata[key] ?? "[]").utf8))
    }
}

final class ResNetImportTests: ImportTestCase {
    override class var scratchName: String { "resnet-import" }

    /// Imports `file` as `family`, writes and opens the bundle, and compares the features, the
    /// logits and the end-to-end features with the reference's under `prefix`.
    private func checkParity(_ file: URL, family: ImportFamily, prefix: String) throws -> (ImportedModel, ModelBundle) {
        let imported = try withNoGrad { try ImportFamily.importModel(from: file, family: family, options: try ResNetFixtures.options(family)) }
        let output = try folder().appendingPathComponent("bundle")
        try imported.write(to: output, overwrite: false)
        let bundle = try ModelBundle.open(output.path)
        XCTAssertEqual(bundle.preprocessing.image.pooling, .attentionPool)
        let towers = try XCTUnwrap(bundle.model.towers)
        let (reference, metadata) = try ResNetFixtures.reference()
        func expected(_ name: String) throws -> Tensor { try ModelFixtures.tensor(reference, prefix + name) }
        try withNoGrad {
            let pixels = try expected("pixels"), ids = try expected("text_ids")
            let rawImage = try towers.imageProjection(towers.imageEncoder.encode(pixels, patchMask: nil).pooled)
            let rawText = try towers.textProjection(towers.textEncoder.towerOutput(ids, attentionMask: (ids .!= 0).to(.int64), tokenTypeIDs: nil).pooled)
            try assertReferenceOutputs(towers, image: rawImage, text: rawText, reference: reference, prefix: prefix,
                                       label: "\(family.rawValue) RN")

            let embedder = try TowerEmbedder(bundle)
            let texts = try ResNetFixtures.texts(metadata, family)
            let fromTexts = try maxAbsDifference(embedder.textFeatures(texts), normalized(expected("text_features")))
            let fromFiles = try maxAbsDifference(embedder.imageFeatures(files: ResNetFixtures.photos(metadata)), normalized(expected("image_features")))
            reportModelParity("\(family.rawValue) RN normalised text features from texts", fromTexts)
            reportModelParity("\(family.rawValue) RN normalised image features from photo files", fromFiles)
            XCTAssertLessThanOrEqual(fromTexts, 1e-5)
            XCTAssertLessThanOrEqual(fromFiles, 1e-5)
        }
        return (imported, bundle)
    }

    func testChineseCLIPResNetGivesTheReferenceFeaturesStageByStage() throws {
        let (imported, bundle) = try checkParity(ResNetFixtures.chineseCLIP, family: .chineseCLIP, prefix: "cnclip_")
        let resNet = try XCTUnwrap(imported.configuration.vision.resNet)
        XCTAssertEqual(resNet, ModifiedResNetConfiguration(imageSize: 64, layers: [2, 1, 1, 1], width: 4, heads: 2, outputDim: 24))
        XCTAssertEqual(bundle.preprocessing.image.resize, .squash)
        XCTAssertEqual(imported.ignoredKeys, [])

        // The tower's stages against cn_clip's activations on the first image.
        let (reference, _) = try ResNetFixtures.reference()
        let tower = try XCTUnwrap(bundle.model.towers?.imageEncoder as? ModifiedResNet)
        try withNoGrad {
            let pixels = try ModelFixtures.tensor(reference, "cnclip_pixels").narrowed(dim: 0, start: 0, length: 1)
            var x = try tower.bn1(tower.conv1(pixels)).relu()
            x = try tower.bn2(tower.conv2(x)).relu()
            x = try Functional.averagePool2d(tower.bn3(tower.conv3(x)).relu(), kernelSize: 2)
            XCTAssertLessThanOrEqual(try maxAbsDifference(x, ModelFixtures.tensor(reference, "cnclip_stem")), 1e-5, "stem")
            for (name, stage) in zip(ModifiedResNet.stageKeys, [tower.layer1, tower.layer2, tower.layer3, tower.layer4]) {
                for block in stage { x = try block(x) }
                XCTAssertLessThanOrEqual(try maxAbsDifference(x, ModelFixtures.tensor(reference, "cnclip_" + name)), 1e-5, name)
            }
            let pooled = try tower.attentionPool(x).select(dim: 1, index: 0)
            XCTAssertLessThanOrEqual(try maxAbsDifference(pooled, ModelFixtures.tensor(reference, "cnclip_attnpool")), 1e-5, "attention pool")
        }
    }

    func testOpenCLIPResNetGivesTheReferenceFeatures() throws {
        let (imported, bundle) = try checkParity(ResNetFixtures.openCLIP, family: .openCLIP, prefix: "openclip_")
        XCTAssertEqual(imported.configuration.vision.kind, .resNet)
        XCTAssertEqual(imported.configuration.text.clip?.activation, .quickGELU)
        XCTAssertEqual(bundle.preprocessing.image.resize, .crop)
    }

    /// Without a configuration the heads follow the convention (32 · width / 64 = 2 here), and the
    /// tower's sizes come from the shapes; a configuration of another tower kind is refused.
    func testSizesComeFromTheShapesAndAWrongConfigurationIsRefused() throws {
        var options = try ResNetFixtures.options(.openCLIP)
        let given = try XCTUnwrap(options.configuration)
        options.configuration = nil
        options.activation = .quickGELU
        // The text tower's width 32 does not divide by 64: the convention cannot give its heads.
        assertFails(["text width 32 is not a multiple of CLIP's head width 64"]) {
            _ = try withNoGrad { try ImportFamily.importModel(from: ResNetFixtures.openCLIP, family: .openCLIP, options: options) }
        }
        var wrong = given
        wrong.vision = .resNet(ModifiedResNetConfiguration(imageSize: 64, layers: [2, 2, 1, 1], width: 4, heads: 2, outputDim: 24))
        options.configuration = wrong
        options.activation = nil
        assertFails(["vision.layers is [2, 2, 1, 1], the checkpoint's [2, 1, 1, 1]"]) {
            _ = try withNoGrad { try ImportFamily.importModel(from: ResNetFixtures.openCLIP, family: .openCLIP, options: options) }
        }
        options.configuration = try OpenCLIPFixtures.options().configuration
        assertFails(["resnet image tower", "the configuration is dual_encoder with a vit image tower"]) {
            _ = try withNoGrad { try ImportFamily.importModel(from: ResNetFixtures.openCLIP, family: .openCLIP, options: options) }
        }
    }

    func testMissingBatchNormStatisticsOrAStrayKeyAreRefusedNamingThem() throws {
        let options = try ResNetFixtures.options(.openCLIP)
        assertFails(["missing key visual.layer2.0.bn3.running_var"]) {
            _ = try importEdited(ResNetFixtures.openCLIP, family: .openCLIP, options: options) { $0.removeValue(forKey: "visual.layer2.0.bn3.running_var") }
        }
        assertFails(["unexpected key visual.layer1.0.conv1.bias"]) {
            _ = try importEdited(ResNetFixtures.openCLIP, family: .openCLIP, options: options) { $0["visual.layer1.0.conv1.bias"] = try Tensor.zeros([4]) }
        }
        // A block more than the configuration says is a size the configuration contradicts.
        assertFails(["vision.layers is [2, 1, 1, 1], the checkpoint's [3, 1, 1, 1]"]) {
            _ = try importEdited(ResNetFixtures.openCLIP, family: .openCLIP, options: options) { $0["visual.layer1.2.conv1.weight"] = try Tensor.zeros([4, 16, 1, 1]) }
        }
        assertFails(["visual.attnpool.positional_embedding has 6 rows"]) {
            _ = try importEdited(ResNetFixtures.openCLIP, family: .openCLIP, options: options) { $0["visual.attnpool.positional_embedding"] = try Tensor.zeros([6, 128]) }
        }
        // Saves without the batch norms' step counters import (evaluation never reads them).
        let imported = try importEdited(ResNetFixtures.openCLIP, family: .openCLIP, options: options) { tensors in
            for key in tensors.keys where key.hasSuffix("num_batches_tracked") { tensors.removeValue(forKey: key) }
        }
        XCTAssertEqual(imported.configuration.vision.kind, .resNet)
    }

    /// `vlp import` + `vlp embed image` through the CLI, and `vlp finetune retrieval` from the
    /// imported ResNet bundle (batch norms training, the attention pool's tokens as states).
    func testImportEmbedAndFinetuneThroughTheCLI() throws {
        let root = try folder()
        let output = root.appendingPathComponent("rn-tiny")
        let imported = try runVLP(["import", ResNetFixtures.chineseCLIP.path, "--output", output.path, "--config",
                                   ResNetFixtures.directory.appendingPathComponent("config-cnclip.json").path,
                                   "--vocabulary", ResNetFixtures.directory.appendingPathComponent("vocab.txt").path])
        XCTAssertEqual(imported.status, 0, imported.errors)
        XCTAssertTrue(imported.output.contains("import: cn-clip"), imported.output)
        XCTAssertTrue(imported.output.contains("ModifiedResNet 4 wide, blocks 2-1-1-1, attention pool 2 heads → 24, 64 px"), imported.output)
        let (reference, metadata) = try ResNetFixtures.reference()
        try assertCLIEmbedding("image", bundle: output, inputs: ResNetFixtures.photos(metadata), expected: try ModelFixtures.tensor(reference, "cnclip_image_features"),
                               label: "cn-clip RN vlp embed image (CLI)")

        // A small corpus on disk: `scenes:` would render the whole built-in split at 64 px first.
        let corpus = root.appendingPathComponent("corpus")
        let synth = try runVLP(["data", "synth", "--out", corpus.path, "--format", "jsonl", "--size", "32", "--image-size", "64"])
        XCTAssertEqual(synth.status, 0, synth.errors)
        let tuned = try runVLP(["finetune", "retrieval", "--checkpoint", output.path, "--data", corpus.appendingPathComponent("pretrain").path,
                                "--split", "train", "--steps", "2", "--batch-size", "4", "--output", root.appendingPathComponent("tuned").path])
        XCTAssertEqual(tuned.status, 0, tuned.errors)
        let losses = try MetricsLog.read(root.appendingPathComponent("tuned/metrics.jsonl")).compactMap { $0["gcpr"] as? Double }
        XCTAssertEqual(losses.count, 2)
        XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(losses)")
        let bundle = try ModelBundle.open(root.appendingPathComponent("tuned").path, notice: { XCTFail("notice: \($0)") })
        XCTAssertEqual(bundle.model.configuration.vision.kind, .resNet)
    }
}
