import Foundation
import Torch
import XCTest
@testable import VLP

/// The Chinese-CLIP fixtures of scripts/reference/make_cnclip_fixtures.py: a small cn_clip CLIP
/// with every parameter perturbed, its checkpoints in cn_clip's layouts, and its outputs.
enum CNCLIPFixtures: ReferenceFixtures {
    static let directory = ModelFixtures.repositoryRoot.appendingPathComponent("Tests/VLPTests/Fixtures/cnclip")
    static var training: URL { directory.appendingPathComponent("cnclip-train.pt") }
    static var half: URL { directory.appendingPathComponent("cnclip-fp16.pt") }
    static var config: URL { directory.appendingPathComponent("config.json") }
    static var vocabulary: URL { directory.appendingPathComponent("vocab.txt") }

    /// The options the fixture model needs: its head counts (2 vision, 4 text: not cn_clip's
    /// 64-wide convention at these widths) and its cut vocabulary.
    static func options() throws -> ImportOptions {
        ImportOptions(configuration: try ModelConfigurationRegistry.load(contentsOf: config), configurationSource: config.path,
                      vocabulary: vocabulary)
    }
}

final class ChineseCLIPImportTests: ImportTestCase {
    override class var scratchName: String { "cnclip-import" }

    /// Imports `file`, writes the bundle, opens it, and compares everything with the reference
    /// outputs under `suffix` ("" for the fp32 model, "_fp16" for the half-precision weights).
    private func checkParity(_ file: URL, suffix: String, label: String) throws -> ImportedModel {
        let imported = try withNoGrad { try ImportFamily.importModel(from: file, family: .chineseCLIP, options: try CNCLIPFixtures.options()) }
        let output = try folder().appendingPathComponent("bundle")
        try imported.write(to: output, overwrite: false)
        let bundle = try ModelBundle.open(output.path)
        let (reference, metadata) = try CNCLIPFixtures.reference()
        let towers = try XCTUnwrap(bundle.model.towers)
        XCTAssertEqual(bundle.preprocessing.text.contextLength, 52)
        XCTAssertEqual(bundle.preprocessing.image.resize, .squash)
        XCTAssertEqual(bundle.preprocessing.image.interpolation, .bicubic)

        // Tokenizer: the bundle's tokenizer gives cn_clip's ids (padded with [PAD] = 0 to 52).
        let texts = try CNCLIPFixtures.texts(metadata)
        let ids = try ModelFixtures.tensor(reference, "text_ids")
        let expectedIDs = try ids.to(.float32).floats().map { Int32($0) }
        for (row, text) in texts.enumerated() {
            let encoded = try bundle.inputs.encode(text).ids
            XCTAssertEqual(encoded + Array(repeating: 0, count: 52 - encoded.count), Array(expectedIDs[(row * 52)..<((row + 1) * 52)]), text)
        }

        try withNoGrad {
            // Model alone, on cn_clip's own inputs.
            let pixels = try ModelFixtures.tensor(reference, "pixels")
            let imageOutput = try towers.imageEncoder.encode(pixels, patchMask: nil)
            let rawImage = try towers.imageProjection(imageOutput.pooled)
            let imageDiff = try maxAbsDifference(rawImage, ModelFixtures.tensor(reference, "image_features" + suffix))
            let textOutput = try towers.encodeTexts(ids, attentionMask: (ids .!= 0).to(.int64))
            let rawText = try towers.textProjection(textOutput.states.select(dim: 1, index: 0))
            let textDiff = try maxAbsDifference(rawText, ModelFixtures.tensor(reference, "text_features" + suffix))
            let scale = try towers.temperature.scale()
            let scaleDiff = try maxAbsDifference(scale, ModelFixtures.tensor(reference, "logit_scale"))
            let logits = try (scale * normalized(rawImage)).matmul(normalized(rawText).transposed(0, 1))
            let logitsDiff = try maxAbsDifference(logits, ModelFixtures.tensor(reference, "logits_per_image" + suffix))
            reportModelParity("cn-clip\(label) image features", imageDiff)
            reportModelParity("cn-clip\(label) text features", textDiff)
            reportModelParity("cn-clip\(label) logit scale", scaleDiff)
            reportModelParity("cn-clip\(label) logits per image", logitsDiff)
            XCTAssertLessThanOrEqual(imageDiff, 1e-5)
            XCTAssertLessThanOrEqual(textDiff, 1e-5)
            XCTAssertLessThanOrEqual(scaleDiff, 1e-5)
            // Logits are cosine similarities times the scale (here ≈ 19): 1e-5 of the features, scaled.
            XCTAssertLessThanOrEqual(logitsDiff, 1e-4)

            // End to end as `vlp embed` runs: our tokenizer and our decode + squash + bicubic resize.
            let embedder = try TowerEmbedder(bundle)
            let fromTexts = try maxAbsDifference(embedder.textFeatures(texts), normalized(ModelFixtures.tensor(reference, "text_features" + suffix)))
            let fromFiles = try maxAbsDifference(embedder.imageFeatures(files: CNCLIPFixtures.photos(metadata)),
                                                 normalized(ModelFixtures.tensor(reference, "image_features" + suffix)))
            reportModelParity("cn-clip\(label) normalised text features from texts", fromTexts)
            reportModelParity("cn-clip\(label) normalised image features from photo files", fromFiles)
            XCTAssertLessThanOrEqual(fromTexts, 1e-5)
            XCTAssertLessThanOrEqual(fromFiles, 1e-5)
        }
        return imported
    }

    /// cn_clip's training checkpoint ({"epoch", "step", "name", "state_dict"}, `module.` keys, fp32).
    func testTrainingCheckpointGivesTheReferenceFeatures() throws {
        let imported = try checkParity(CNCLIPFixtures.training, suffix: "", label: "")
        XCTAssertEqual(imported.convertedTensors, 0)
        XCTAssertEqual(imported.ignoredKeys, [])
        let vit = try XCTUnwrap(imported.configuration.vision.vit)
        XCTAssertEqual([vit.width, vit.layers, vit.heads, vit.patchSize, vit.imageSize, vit.mlpWidth], [32, 2, 2, 8, 32, 128])
        XCTAssertEqual(vit.activation, "quick_gelu")
        let text = try XCTUnwrap(imported.configuration.text.bert)
        XCTAssertEqual([text.vocabularySize, text.hiddenSize, text.layers, text.heads, text.intermediateSize, text.maxPositions],
                       [53, 32, 2, 4, 64, 64])
        XCTAssertEqual(imported.configuration.embedDim, 32)
    }

    /// The plain state dict after cn_clip's `convert_weights` (fp16), in torch's legacy format:
    /// equal to the reference run on the same fp16 values; against the fp32 model, off by the rounding.
    func testHalfPrecisionCheckpointGivesTheReferenceFeatures() throws {
        let imported = try checkParity(CNCLIPFixtures.half, suffix: "_fp16", label: " fp16")
        XCTAssertEqual(imported.convertedTensors, 56, "all 71 but the ViT's 12 layer-norm tensors, class and position embeddings and the logit scale are fp16")
        let (reference, _) = try CNCLIPFixtures.reference()
        try withNoGrad {
            let model = try imported.makeModel()
            let towers = try XCTUnwrap(model.towers)
            let pixels = try ModelFixtures.tensor(reference, "pixels")
            let features = try towers.imageProjection(towers.imageEncoder.encode(pixels, patchMask: nil).pooled)
            let fromFP32 = try maxAbsDifference(features, ModelFixtures.tensor(reference, "image_features"))
            reportModelParity("cn-clip fp16 weights vs the fp32 model, image features", fromFP32)
            XCTAssertLessThanOrEqual(fromFP32, 5e-3)
        }
    }

    func testFamilyIsDetectedFromTheKeys() throws {
        let tensors = try CheckpointFile.read(CNCLIPFixtures.training)
        XCTAssertEqual(ImportFamily.detect(tensors.keys), .chineseCLIP)
        XCTAssertEqual(ImportFamily.detect(try CheckpointFile.read(CNCLIPFixtures.half).keys), .chineseCLIP)
        XCTAssertNil(ImportFamily.detect(["text.embeddings.word_embeddings.weight", "vision.pre_layrnorm.weight"]))
        let imported = try withNoGrad { try ImportFamily.importModel(from: CNCLIPFixtures.training, family: nil, options: try CNCLIPFixtures.options()) }
        XCTAssertEqual(imported.family, .chineseCLIP)
    }

    // MARK: malformed checkpoints

    /// The fixture's state dict (no prefix), edited by `edit`, saved as safetensors and imported.
    /// The fixture's fp16 state dict, edited, imported with `options` (the fixture's by default).
    private func importEdited(_ edit: (inout [String: Tensor]) throws -> Void, options: ImportOptions? = nil) throws -> ImportedModel {
        try importEdited(CNCLIPFixtures.half, family: .chineseCLIP, options: try options ?? CNCLIPFixtures.options(), edit)
    }

    func testATruncatedCheckpointIsRefusedNamingTheFile() throws {
        for source in [CNCLIPFixtures.training, CNCLIPFixtures.half] {
            let bytes = try Data(contentsOf: source)
            let file = try folder().appendingPathComponent("truncated.pt")
            try bytes.prefix(bytes.count / 2).write(to: file)
            assertFails([file.path]) { _ = try ImportFamily.importModel(from: file, family: .chineseCLIP, options: try CNCLIPFixtures.options()) }
        }
    }

    func testARenamedKeyIsRefusedNamingIt() throws {
        assertFails(["missing key visual.ln_post.weight"]) {
            _ = try importEdited { $0["visual.ln_post.gamma"] = $0.removeValue(forKey: "visual.ln_post.weight") }
        }
        assertFails(["unexpected key visual.extra_token"]) {
            _ = try importEdited { $0["visual.extra_token"] = try Tensor.zeros([32]) }
        }
        assertFails(["block visual.transformer.resblocks.1 is missing"]) {
            _ = try importEdited { tensors in
                for key in tensors.keys where key.hasPrefix("visual.transformer.resblocks.1.") {
                    tensors[key.replacingOccurrences(of: "resblocks.1.", with: "resblocks.2.")] = tensors.removeValue(forKey: key)
                }
            }
        }
        assertFails(["key text_projection lacks the module. prefix"]) {
            _ = try importEdited { tensors in
                for key in tensors.keys where key != "text_projection" { tensors["module." + key] = tensors.removeValue(forKey: key) }
            }
        }
    }

    func testAWrongShapedTensorIsRefusedNamingIt() throws {
        assertFails(["bert.encoder.layer.1.intermediate.dense.bias has shape [63], expected [64]"]) {
            _ = try importEdited { $0["bert.encoder.layer.1.intermediate.dense.bias"] = try Tensor.zeros([63]) }
        }
        assertFails(["visual.transformer.resblocks.0.attn.in_proj_weight has shape [96, 31], expected [96, 32]"]) {
            _ = try importEdited { $0["visual.transformer.resblocks.0.attn.in_proj_weight"] = try Tensor.zeros([96, 31]) }
        }
        assertFails(["text_projection has shape [32, 16], expected [32, 32]"]) {
            _ = try importEdited { $0["text_projection"] = try Tensor.zeros([32, 16]) }
        }
        assertFails(["visual.positional_embedding has 16 rows"]) {
            _ = try importEdited { $0["visual.positional_embedding"] = try Tensor.zeros([16, 32]) }
        }
    }

    func testStrayResNetAndUnknownTopLevelKeysAreRefused() throws {
        assertFails(["unexpected key visual.attnpool.c_proj.weight"]) {
            _ = try importEdited { $0["visual.attnpool.c_proj.weight"] = try Tensor.zeros([32, 32]) }
        }
        // In the training layout (flattened as the unpickler flattens nested dicts), optimizer
        // state is ignored and listed; anything else beside the state dict is refused.
        func wrap(_ tensors: inout [String: Tensor]) {
            tensors = Dictionary(uniqueKeysWithValues: tensors.map { ("state_dict.module." + $0.key, $0.value) })
        }
        let imported = try importEdited { tensors in
            wrap(&tensors)
            tensors["optimizer.state.0.exp_avg"] = try Tensor.zeros([32])
        }
        XCTAssertEqual(imported.ignoredKeys, ["optimizer.state.0.exp_avg"])
        assertFails(["unexpected key ema.visual.proj beside state_dict"]) {
            _ = try importEdited { tensors in
                wrap(&tensors)
                tensors["ema.visual.proj"] = try Tensor.zeros([32, 32])
            }
        }
    }

    func testHeadCountsNeedAConfigurationWhenTheConventionDoesNotDivide() throws {
        var options = try CNCLIPFixtures.options()
        options.configuration = nil
        assertFails(["vision width 32 is not a multiple of cn_clip's head width 64", "--config"]) {
            _ = try withNoGrad { try ImportFamily.importModel(from: CNCLIPFixtures.training, family: .chineseCLIP, options: options) }
        }
        // A configuration that disagrees with the shapes is refused, naming each field.
        var wrong = try ModelConfigurationRegistry.load(contentsOf: CNCLIPFixtures.config)
        wrong.embedDim = 64
        if case .vit(var vit) = wrong.vision { vit.layers = 3; wrong.vision = .vit(vit) }
        options.configuration = wrong
        assertFails(["embed_dim is 64, the checkpoint's 32", "vision.layers is 3, the checkpoint's 2"]) {
            _ = try withNoGrad { try ImportFamily.importModel(from: CNCLIPFixtures.training, family: .chineseCLIP, options: options) }
        }
    }

    /// Sizes come from the shapes and the heads from cn_clip's convention (64-wide), at any size:
    /// a state dict of zeros shaped like a 128-wide, 3-layer ViT with patch 4 at 24 px and a
    /// 128-wide BERT with 1 layer.
    func testSizesAreInferredFromTheShapes() throws {
        let (w, patch, grid, layers, h, embed, vocab) = (128, 4, 6, 3, 128, 48, 53)
        var tensors: [String: Tensor] = [
            "visual.conv1.weight": try .zeros([w, 3, patch, patch]), "visual.class_embedding": try .zeros([w]),
            "visual.positional_embedding": try .zeros([grid * grid + 1, w]), "visual.proj": try .zeros([w, embed]),
            "visual.ln_pre.weight": try .zeros([w]), "visual.ln_pre.bias": try .zeros([w]),
            "visual.ln_post.weight": try .zeros([w]), "visual.ln_post.bias": try .zeros([w]),
            "bert.embeddings.word_embeddings.weight": try .zeros([vocab, h]), "bert.embeddings.position_embeddings.weight": try .zeros([80, h]),
            "bert.embeddings.token_type_embeddings.weight": try .zeros([2, h]),
            "bert.embeddings.LayerNorm.weight": try .zeros([h]), "bert.embeddings.LayerNorm.bias": try .zeros([h]),
            "bert.pooler.dense.weight": try .zeros([h, h]), "bert.pooler.dense.bias": try .zeros([h]),
            "text_projection": try .zeros([h, embed]), "logit_scale": try .zeros([]),
        ]
        for i in 0..<layers {
            let p = "visual.transformer.resblocks.\(i)."
            for (name, shape) in [("attn.in_proj_weight", [3 * w, w]), ("attn.in_proj_bias", [3 * w]), ("attn.out_proj.weight", [w, w]),
                                  ("attn.out_proj.bias", [w]), ("ln_1.weight", [w]), ("ln_1.bias", [w]), ("mlp.c_fc.weight", [4 * w, w]),
                                  ("mlp.c_fc.bias", [4 * w]), ("mlp.c_proj.weight", [w, 4 * w]), ("mlp.c_proj.bias", [w]),
                                  ("ln_2.weight", [w]), ("ln_2.bias", [w])] {
                tensors[p + name] = try .zeros(shape, dtype: .float16)
            }
        }
        let p = "bert.encoder.layer.0."
        for name in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"] {
            tensors[p + name + ".weight"] = try .zeros([h, h])
            tensors[p + name + ".bias"] = try .zeros([h])
        }
        for name in ["attention.output.LayerNorm", "output.LayerNorm"] {
            tensors[p + name + ".weight"] = try .zeros([h])
            tensors[p + name + ".bias"] = try .zeros([h])
        }
        tensors[p + "intermediate.dense.weight"] = try .zeros([256, h])
        tensors[p + "intermediate.dense.bias"] = try .zeros([256])
        tensors[p + "output.dense.weight"] = try .zeros([h, 256])
        tensors[p + "output.dense.bias"] = try .zeros([h])

        let imported = try withNoGrad {
            try ImportFamily.chineseCLIP.convert(tensors, source: "synthetic", options: ImportOptions(vocabulary: CNCLIPFixtures.vocabulary))
        }
        let vit = try XCTUnwrap(imported.configuration.vision.vit)
        XCTAssertEqual([vit.width, vit.layers, vit.heads, vit.patchSize, vit.imageSize, vit.mlpWidth], [128, 3, 2, 4, 24, 512])
        let text = try XCTUnwrap(imported.configuration.text.bert)
        XCTAssertEqual([text.vocabularySize, text.hiddenSize, text.layers, text.heads, text.intermediateSize, text.maxPositions],
                       [53, 128, 1, 2, 256, 80])
        XCTAssertEqual(imported.configuration.embedDim, 48)
        XCTAssertEqual(imported.ignoredKeys, ["bert.pooler.dense.bias", "bert.pooler.dense.weight"])
        XCTAssertEqual(imported.convertedTensors, 36)
        XCTAssertEqual(ChineseCLIPImport.visionHeadWidth(width: 1280), 80, "ViT-H/14")
        XCTAssertEqual(ChineseCLIPImport.visionHeadWidth(width: 1024), 64, "ViT-L/14")
    }

    // MARK: the bundle

    func testTheDefaultVocabularyMustFitTheTextTower() throws {
        var options = try CNCLIPFixtures.options()
        options.vocabulary = try ModelFixtures.asset("cn-clip/vocab.txt")
        let imported = try withNoGrad { try ImportFamily.importModel(from: CNCLIPFixtures.training, family: .chineseCLIP, options: options) }
        let output = try folder().appendingPathComponent("bundle")
        assertFails(["21128 tokens", "embedding 53"]) { try imported.write(to: output, overwrite: false) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path))
    }

    func testWritingRefusesToReplaceWithoutOverwriteAndLeavesNoStaging() throws {
        let parent = try folder()
        let output = parent.appendingPathComponent("bundle")
        let imported = try withNoGrad { try ImportFamily.importModel(from: CNCLIPFixtures.training, family: .chineseCLIP, options: try CNCLIPFixtures.options()) }
        try imported.write(to: output, overwrite: false)
        assertFails([output.path, "--overwrite"]) { try imported.write(to: output, overwrite: false) }
        try imported.write(to: output, overwrite: true)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: parent.path), ["bundle"], "no staging or displaced folder left")
        let record = try JSONDecoder().decode(ImportedModel.Record.self, from: Data(contentsOf: output.appendingPathComponent(ImportedModel.recordFile)))
        XCTAssertEqual(record.family, .chineseCLIP)
        XCTAssertEqual(record.source, CNCLIPFixtures.training.path)
        // --overwrite replaces only a bundle or an empty folder.
        let other = parent.appendingPathComponent("notes")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: other.appendingPathComponent("notes.txt"))
        assertFails(["neither a model bundle nor empty"]) { try imported.write(to: other, overwrite: true) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: other.appendingPathComponent("notes.txt").path))
    }

    // MARK: the command line

    func testImportThenEmbedAndZeroShotThroughTheCLI() throws {
        let output = try folder().appendingPathComponent("cn-tiny")
        let arguments = ["import", "--from", "cn-clip", CNCLIPFixtures.training.path, "--output", output.path,
                         "--config", CNCLIPFixtures.config.path, "--vocabulary", CNCLIPFixtures.vocabulary.path]
        let imported = try runVLP(arguments)
        XCTAssertEqual(imported.status, 0, imported.errors)
        XCTAssertTrue(imported.output.contains("ViT 32 wide, 2 layers, 2 heads, patch 8, 32 px"), imported.output)
        let again = try runVLP(arguments)
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.errors.contains("--overwrite"), again.errors)

        let (reference, metadata) = try CNCLIPFixtures.reference()
        let texts = try CNCLIPFixtures.texts(metadata)
        try assertCLIEmbedding("text", bundle: output, inputs: texts, expected: try ModelFixtures.tensor(reference, "text_features"),
                               label: "cn-clip vlp embed text (CLI)")

        let images = try runVLP(["embed", "image", "--checkpoint", output.path, "--json"] + CNCLIPFixtures.photos(metadata))
        XCTAssertEqual(images.status, 0, images.errors)
        XCTAssertEqual(images.output.split(separator: "\n").count, 2)

        let zeroShot = try runVLP(["evaluate", "zeroshot", "--checkpoint", output.path, "--data", "scenes-shape", "--language", "zh", "--json"])
        XCTAssertEqual(zeroShot.status, 0, zeroShot.errors)
        let metrics = try JSONSerialization.jsonObject(with: Data(zeroShot.output.utf8)) as? [String: Any]
        XCTAssertNotNil(metrics, zeroShot.output)
    }

    /// `vlp finetune` continues from an imported bundle and prepares its data as the bundle says:
    /// the bundle's own vocabulary file (53 tokens here, not ./assets'), context length 52 and
    /// Chinese-CLIP's squash resize — and the checkpoint it writes records the same.
    func testFinetuneFromAnImportedBundleKeepsItsPreprocessing() throws {
        let root = try folder()
        let output = root.appendingPathComponent("cn-tiny")
        let imported = try runVLP(["import", "--from", "cn-clip", CNCLIPFixtures.training.path, "--output", output.path,
                                   "--config", CNCLIPFixtures.config.path, "--vocabulary", CNCLIPFixtures.vocabulary.path])
        XCTAssertEqual(imported.status, 0, imported.errors)
        let tuned = try runVLP(["finetune", "retrieval", "--checkpoint", output.path, "--data", "scenes:icr:train",
                                "--steps", "2", "--batch-size", "4", "--output", root.appendingPathComponent("tuned").path])
        XCTAssertEqual(tuned.status, 0, tuned.errors)
        XCTAssertTrue(tuned.errors.contains("initialised from"), tuned.errors)
        let losses = try MetricsLog.read(root.appendingPathComponent("tuned/metrics.jsonl")).compactMap { $0["gcpr"] as? Double }
        XCTAssertEqual(losses.count, 2)
        XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(losses)")
        var notices: [String] = []
        let bundle = try ModelBundle.open(root.appendingPathComponent("tuned").path, notice: { notices.append($0) })
        XCTAssertEqual(notices, [])
        let original = try ModelBundle.open(output.path)
        XCTAssertEqual(bundle.preprocessing, original.preprocessing, "the fine-tuned checkpoint is prepared as the imported model")
        XCTAssertEqual(bundle.preprocessing.image.resize, .squash)
        XCTAssertEqual(bundle.preprocessing.text.contextLength, 52)
        XCTAssertEqual(bundle.inputs.tokenizer.vocabularySize, 53)
    }
}
