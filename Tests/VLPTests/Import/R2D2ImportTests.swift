import Foundation
import Torch
import XCTest
@testable import VLP

/// The R2D2 fixture of scripts/reference/make_r2d2_fixtures.py: a small perturbed R2D2 (transformers'
/// CLIP vision tower and BERT, BLIP-style cross BERTs written from R2D2's models/bert.py) saved as
/// R2D2's training scripts save it (`{"model", "epoch", "config"}`), its outputs, and `config.json`
/// with its head counts (16 wide, not R2D2's 64, to keep the fixture small).
enum R2D2Fixtures: ReferenceFixtures {
    static let directory = ModelFixtures.repositoryRoot.appendingPathComponent("Tests/VLPTests/Fixtures/r2d2")
    static var checkpoint: URL { directory.appendingPathComponent("r2d2.pth") }
    static var configurationFile: URL { directory.appendingPathComponent("config.json") }
    static var vocabulary: URL { directory.appendingPathComponent("vocab.txt") }

    static func options() throws -> ImportOptions {
        ImportOptions(configuration: try ModelConfigurationRegistry.load(contentsOf: configurationFile),
                      configurationSource: configurationFile.path, vocabulary: vocabulary)
    }
}

final class R2D2ImportTests: ImportTestCase {
    override class var scratchName: String { "r2d2-import" }

    private func importFixture(_ options: ImportOptions? = nil, family: ImportFamily? = nil) throws -> ImportedModel {
        let options = try options ?? R2D2Fixtures.options()
        return try withNoGrad { try ImportFamily.importModel(from: R2D2Fixtures.checkpoint, family: family, options: options) }
    }

    func testCheckpointGivesTheReferenceFeaturesAndTwoStageScores() throws {
        let imported = try importFixture()
        XCTAssertEqual(imported.family, .r2d2, "detected from the keys inside model")
        let c = imported.configuration
        XCTAssertEqual(c.architecture, .r2d2)
        XCTAssertTrue(c.projectionBias)
        let vit = try XCTUnwrap(c.vision.vit)
        XCTAssertEqual([vit.width, vit.layers, vit.heads, vit.patchSize, vit.imageSize, vit.mlpWidth], [48, 2, 3, 16, 32, 96])
        XCTAssertFalse(vit.postLayerNorm)
        let textCross = try XCTUnwrap(c.textCross), imageCross = try XCTUnwrap(c.imageCross)
        XCTAssertEqual([textCross.layers, textCross.width, textCross.queryInputWidth, textCross.contextInputWidth], [2, 32, 32, 48])
        XCTAssertEqual([imageCross.layers, imageCross.width, imageCross.queryInputWidth, imageCross.contextInputWidth], [2, 32, 48, 32])
        XCTAssertEqual([textCross.queryMap, textCross.contextMap, imageCross.queryMap, imageCross.contextMap], [.direct, .direct, .linear, .direct])
        XCTAssertEqual(imported.ignoredKeys.filter { !$0.contains("_joint_layer.embeddings.") }, [
            "text_encoder.embeddings.position_ids", "text_encoder.pooler.dense.bias", "text_encoder.pooler.dense.weight",
            "visual_encoder.embeddings.position_ids", "visual_encoder.post_layernorm.bias", "visual_encoder.post_layernorm.weight"])
        XCTAssertEqual(imported.initializedKeys.count, 6)
        XCTAssertTrue(imported.initializedKeys.allSatisfy { $0.hasPrefix("mlm_head.") })

        let output = try folder().appendingPathComponent("bundle")
        try imported.write(to: output, overwrite: false)
        let record = try JSONDecoder().decode(ImportedModel.Record.self, from: Data(contentsOf: output.appendingPathComponent(ImportedModel.recordFile)))
        XCTAssertEqual(record.initializedKeys, imported.initializedKeys)
        let bundle = try ModelBundle.open(output.path)
        XCTAssertEqual(bundle.preprocessing.text.contextLength, 64)
        XCTAssertEqual(bundle.preprocessing.image.resize, .squash)
        XCTAssertEqual(bundle.preprocessing.image.pooling, .classTokenBeforeNorm)
        XCTAssertEqual(bundle.preprocessing.rerankWeight, 1)
        let towers = try XCTUnwrap(bundle.model.towers)
        let scorer = try XCTUnwrap(bundle.model.pairScorer)
        let (reference, metadata) = try R2D2Fixtures.reference()
        func expected(_ name: String) throws -> Tensor { try ModelFixtures.tensor(reference, name) }

        // BertTokenizer's ids from our Chinese WordPiece over the copied vocabulary.
        let texts = try R2D2Fixtures.texts(metadata)
        let ids = try expected("input_ids"), mask = try expected("attention_mask")
        let expectedIDs = try ids.to(.float32).floats().map { Int32($0) }, expectedMask = try mask.to(.float32).floats()
        for (row, text) in texts.enumerated() {
            let real = (row * 64..<(row + 1) * 64).filter { expectedMask[$0] != 0 }.map { expectedIDs[$0] }
            XCTAssertEqual(try bundle.inputs.encode(text).ids, real, text)
        }

        try withNoGrad {
            let images = try towers.encodeImages(expected("pixel_values"))
            let encodedTexts = try towers.encodeTexts(ids, attentionMask: mask)
            let imageDiff = try maxAbsDifference(images.features, expected("image_features"))
            let textDiff = try maxAbsDifference(encodedTexts.features, expected("text_features"))
            let scale = try towers.temperature.scale()
            let scaleDiff = try maxAbsDifference(scale, expected("temp").reciprocal())
            let logits = try (scale * encodedTexts.features).matmul(images.features.transposed(0, 1))
            let logitsDiff = try maxAbsDifference(logits, expected("logits_per_text"))

            // Every (text t, image i) pair through both cross encoders, as compute_cross_score pairs them.
            let textIndex = try Tensor([0, 0, 1, 1, 2, 2] as [Int64], shape: [6]), imageIndex = try Tensor([0, 1, 0, 1, 0, 1] as [Int64], shape: [6])
            let scores = try scorer.scorePairs(textStates: encodedTexts.states.indexSelect(dim: 0, textIndex),
                                               textMask: mask.indexSelect(dim: 0, textIndex),
                                               imageStates: images.states.indexSelect(dim: 0, imageIndex))
            let textHeadDiff = try maxAbsDifference(scores.textCrossLogits, expected("itm_logits_text").reshaped([6, 2]))
            let imageHeadDiff = try maxAbsDifference(scores.imageCrossLogits, expected("itm_logits_image").reshaped([6, 2]))
            let probability = try scores.matchProbability()
            let probabilityDiff = try maxAbsDifference(probability, expected("match_probability").reshaped([6]))
            let cosine = try encodedTexts.features.matmul(images.features.transposed(0, 1)).reshaped([6])
            let twoStageDiff = try maxAbsDifference(cosine + probability, expected("two_stage_score").reshaped([6]))
            for (label, difference, tolerance) in [("image features", imageDiff, 1e-5), ("text features", textDiff, 1e-5),
                                                   ("logit scale", scaleDiff, 1e-5), ("logits per text", logitsDiff, 1e-5),
                                                   ("text-attends-image match logits", textHeadDiff, 1e-5),
                                                   ("image-attends-text match logits", imageHeadDiff, 1e-5),
                                                   ("match probability", probabilityDiff, 1e-5), ("two-stage score", twoStageDiff, 1e-5)] {
                reportModelParity("r2d2 \(label)", difference)
                XCTAssertLessThanOrEqual(difference, tolerance, label)
            }

            // The padding mask reaches the cross encoders (without it [CLS] would change).
            let unmasked = try scorer.scorePairs(textStates: encodedTexts.states.indexSelect(dim: 0, textIndex),
                                                 textMask: Tensor.ones([6, 64], dtype: .int64),
                                                 imageStates: images.states.indexSelect(dim: 0, imageIndex))
            XCTAssertGreaterThan(try maxAbsDifference(unmasked.textCrossLogits, scores.textCrossLogits), 1e-3)

            // End to end: our tokenizer, decoder and bicubic squash against R2D2's transform.
            let embedder = try TowerEmbedder(bundle)
            let fromTexts = try maxAbsDifference(embedder.textFeatures(texts), expected("text_features"))
            let fromFiles = try maxAbsDifference(embedder.imageFeatures(files: R2D2Fixtures.photos(metadata)), expected("image_features"))
            reportModelParity("r2d2 normalised text features from texts", fromTexts)
            reportModelParity("r2d2 normalised image features from photo files", fromFiles)
            XCTAssertLessThanOrEqual(fromTexts, 1e-5)
            XCTAssertLessThanOrEqual(fromFiles, 1e-5)
        }
    }

    /// Without --config the heads are R2D2's 64 wide, which the fixture's widths are not; a
    /// configuration that departs from the checkpoint names each field.
    func testHeadCountsComeFromTheConventionOrAConfigurationThatMatches() throws {
        assertFails(["vision width 48 is not a multiple of R2D2's head width 64", "--config"]) {
            _ = try self.importFixture(ImportOptions(vocabulary: R2D2Fixtures.vocabulary))
        }
        var wrong = try R2D2Fixtures.options()
        wrong.configuration?.textCross?.layers = 6
        wrong.configuration?.vision = .vit(VisionTransformerConfiguration(imageSize: 32, patchSize: 16, width: 48, layers: 2, heads: 3, mlpWidth: 96,
                                                                          activation: "quick_gelu"))
        assertFails(["does not describe this R2D2 checkpoint", "text_cross.layers is 6, the checkpoint's 2",
                     "vision.post_layernorm is true, the checkpoint's false"]) {
            _ = try self.importFixture(wrong)
        }
        // Dropouts are a training choice: a configuration that differs only there imports, with its own.
        var quiet = try R2D2Fixtures.options()
        quiet.configuration?.textCross?.dropout = 0
        XCTAssertEqual(try importFixture(quiet).configuration.textCross?.dropout, 0)
        var dual = try R2D2Fixtures.options()
        dual.configuration = try ModelConfigurationRegistry.load("r2d2-tiny-dual")
        assertFails(["needs an r2d2 configuration"]) { _ = try self.importFixture(dual) }
        var gelu = try R2D2Fixtures.options()
        gelu.activation = .gelu
        assertFails(["R2D2's image tower uses quick_gelu"]) { _ = try self.importFixture(gelu) }
    }

    /// A key renamed, a tensor of the wrong shape, a bad temperature, a foreign key beside the
    /// state dict: each refused with a message naming it.
    func testMalformedCheckpointsAreRefusedNamingTheKey() throws {
        let options = try R2D2Fixtures.options()
        assertFails(["missing key text_joint_layer.encoder.layer.1.crossattention.self.value.weight"]) {
            _ = try self.importEdited(R2D2Fixtures.checkpoint, family: .r2d2, options: options) { tensors in
                let key = "model.text_joint_layer.encoder.layer.1.crossattention.self.value.weight"
                tensors["model.text_joint_layer.encoder.layer.1.crossattention.self.valve.weight"] = tensors.removeValue(forKey: key)
            }
        }
        assertFails(["img_joint_proj.weight has shape [32, 40], expected [32, 48]"]) {
            _ = try self.importEdited(R2D2Fixtures.checkpoint, family: .r2d2, options: options) { tensors in
                tensors["model.img_joint_proj.weight"] = try tensors["model.img_joint_proj.weight"]?.narrowed(dim: 1, start: 0, length: 40).contiguous()
            }
        }
        assertFails(["temp is -0.5", "τ > 0"]) {
            _ = try self.importEdited(R2D2Fixtures.checkpoint, family: .r2d2, options: options) { tensors in
                tensors["model.temp"] = try Tensor([-0.5] as [Float], shape: [])
            }
        }
        assertFails(["unexpected key scheduler.steps beside model"]) {
            _ = try self.importEdited(R2D2Fixtures.checkpoint, family: .r2d2, options: options) { tensors in
                tensors["scheduler.steps"] = try Tensor([1] as [Float], shape: [1])
            }
        }
        // A training checkpoint's optimizer state is set aside, as for Chinese-CLIP.
        let withOptimizer = try importEdited(R2D2Fixtures.checkpoint, family: .r2d2, options: options) { tensors in
            tensors["optimizer.state.0.exp_avg"] = try Tensor([1, 2] as [Float], shape: [2])
        }
        XCTAssertTrue(withOptimizer.ignoredKeys.contains("optimizer.state.0.exp_avg"))
    }

    /// `vlp import` (family detected), `vlp index` on the two photos and `vlp search --rerank`: the
    /// re-ranked scores are the reference's two-stage scores (cosine + mean match probability).
    func testImportIndexAndRerankedSearchThroughTheCLI() throws {
        let root = try folder()
        let bundle = root.appendingPathComponent("r2d2")
        let imported = try runVLP(["import", R2D2Fixtures.checkpoint.path, "--output", bundle.path,
                                   "--config", R2D2Fixtures.configurationFile.path, "--vocabulary", R2D2Fixtures.vocabulary.path])
        XCTAssertEqual(imported.status, 0, imported.errors)
        XCTAssertTrue(imported.output.contains("import: r2d2") && imported.output.contains("initialised fresh"), imported.output)
        let (reference, metadata) = try R2D2Fixtures.reference()
        let photos = try R2D2Fixtures.photos(metadata), texts = try R2D2Fixtures.texts(metadata)
        try assertCLIEmbedding("image", bundle: bundle, inputs: photos, expected: ModelFixtures.tensor(reference, "image_features"),
                               label: "r2d2 CLI image embeddings")

        let folder = root.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for photo in photos { try FileManager.default.copyItem(atPath: photo, toPath: folder.appendingPathComponent(URL(fileURLWithPath: photo).lastPathComponent).path) }
        let index = root.appendingPathComponent("photos.index").path
        let built = try runVLP(["index", "--checkpoint", bundle.path, "--images", folder.path, "--out", index])
        XCTAssertEqual(built.status, 0, built.errors)
        let expected = try ModelFixtures.tensor(reference, "two_stage_score").floats()  // [3, 2]
        for (t, text) in texts.enumerated() {
            let searched = try runVLP(["search", "--index", index, text, "-k", "2", "--rerank", "2", "--json"])
            XCTAssertEqual(searched.status, 0, searched.errors)
            let answer = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(searched.output.utf8)) as? [String: Any])
            let results = try XCTUnwrap(answer["results"] as? [[String: Any]])
            XCTAssertEqual(results.count, 2, searched.output)
            for result in results {
                let image = try XCTUnwrap(result["id"] as? String)
                let i = try XCTUnwrap(photos.firstIndex { URL(fileURLWithPath: $0).lastPathComponent == image }, image)
                let score = try XCTUnwrap(result["score"] as? Double)
                XCTAssertEqual(score, Double(expected[t * 2 + i]), accuracy: 1e-5, "\(text) / \(image)")
            }
            let scores = results.compactMap { $0["score"] as? Double }
            XCTAssertEqual(scores, scores.sorted(by: >), "best first")
        }

        // Fine-tuning continues from the imported R2D2: GCPR and FGR train its towers and cross
        // encoders, and the tuned bundle keeps R2D2's layout.
        let corpus = root.appendingPathComponent("corpus")
        let synth = try runVLP(["data", "synth", "--out", corpus.path, "--format", "jsonl", "--size", "32", "--image-size", "32"])
        XCTAssertEqual(synth.status, 0, synth.errors)
        let tunedFolder = root.appendingPathComponent("tuned")
        let tuned = try runVLP(["finetune", "retrieval", "--checkpoint", bundle.path, "--data", corpus.appendingPathComponent("pretrain").path,
                                "--split", "train", "--steps", "2", "--batch-size", "4", "--output", tunedFolder.path])
        XCTAssertEqual(tuned.status, 0, tuned.errors)
        let metrics = try MetricsLog.read(tunedFolder.appendingPathComponent("metrics.jsonl"))
        for term in ["gcpr", "fgr"] {
            let losses = metrics.compactMap { $0[term] as? Double }
            XCTAssertEqual(losses.count, 2, term)
            XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(term): \(losses)")
        }
        let reopened = try ModelBundle.open(tunedFolder.path, notice: { XCTFail("notice: \($0)") })
        XCTAssertEqual(reopened.model.configuration, try XCTUnwrap(ModelBundle.open(bundle.path).model.configuration))
        XCTAssertEqual(reopened.preprocessing.image.pooling, .classTokenBeforeNorm)
    }
}
