import Foundation
import Torch
import XCTest
@testable import VLP

/// The Hugging Face Chinese-CLIP fixture of scripts/reference/make_hfcnclip_fixtures.py: a small
/// perturbed `transformers.ChineseCLIPModel` directory (fp16 safetensors, a cut Chinese BERT
/// vocabulary, ChineseCLIPImageProcessor settings in the released models' squash form) and its outputs.
enum HuggingFaceChineseCLIPFixtures: ReferenceFixtures {
    static let directory = ModelFixtures.repositoryRoot.appendingPathComponent("Tests/VLPTests/Fixtures/hfcnclip")
}

final class HuggingFaceChineseCLIPImportTests: ImportTestCase {
    override class var scratchName: String { "hfcnclip-import" }

    /// A copy of the fixture directory to edit.
    private func copiedDirectory() throws -> URL {
        let copy = try folder().appendingPathComponent("chinese-clip")
        try FileManager.default.copyItem(at: HuggingFaceChineseCLIPFixtures.directory, to: copy)
        return copy
    }

    private func importDirectory(_ url: URL, family: ImportFamily? = nil) throws -> ImportedModel {
        try withNoGrad { try ImportFamily.importModel(from: url, family: family, options: ImportOptions()) }
    }

    /// Rewrites the JSON file `name` of `directory` by `edit`; returns the original bytes.
    private func rewrite(_ directory: URL, _ name: String, _ edit: (inout [String: Any]) -> Void) throws -> Data {
        let url = directory.appendingPathComponent(name)
        let original = try Data(contentsOf: url)
        var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: original) as? [String: Any])
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        return original
    }

    func testDirectoryGivesTheReferenceFeatures() throws {
        let imported = try importDirectory(HuggingFaceChineseCLIPFixtures.directory)
        XCTAssertEqual(imported.family, .huggingFaceChineseCLIP)
        XCTAssertEqual(imported.ignoredKeys, [])
        XCTAssertEqual(imported.convertedTensors, imported.weights.count, "every tensor of the fixture is fp16")
        let vit = try XCTUnwrap(imported.configuration.vision.vit)
        XCTAssertEqual([vit.width, vit.layers, vit.heads, vit.patchSize, vit.imageSize, vit.mlpWidth], [32, 2, 2, 8, 32, 64])
        XCTAssertEqual(vit.activation, "quick_gelu")
        let text = try XCTUnwrap(imported.configuration.text.bert)
        XCTAssertEqual([text.vocabularySize, text.hiddenSize, text.layers, text.heads, text.intermediateSize, text.maxPositions],
                       [53, 32, 2, 4, 64, 64])
        XCTAssertEqual(text.hiddenActivation, "gelu")
        XCTAssertEqual(text.layerNormEps, 1e-12)
        XCTAssertEqual(imported.configuration.embedDim, 24)

        let output = try folder().appendingPathComponent("bundle")
        try imported.write(to: output, overwrite: false)
        let bundle = try ModelBundle.open(output.path)
        XCTAssertEqual(bundle.preprocessing.text.tokenizer, .bertChinese)
        XCTAssertEqual(bundle.preprocessing.text.vocabulary, "tokenizer/vocab.txt")
        XCTAssertEqual(bundle.preprocessing.text.contextLength, 52)
        XCTAssertEqual(bundle.preprocessing.text.pooling, .firstToken)
        XCTAssertEqual(bundle.preprocessing.image.resize, .squash)
        XCTAssertEqual(bundle.preprocessing.image.interpolation, .bicubic)
        let towers = try XCTUnwrap(bundle.model.towers)
        let (reference, metadata) = try HuggingFaceChineseCLIPFixtures.reference()

        // Tokenizer: our Chinese BERT WordPiece over the copied vocab.txt gives BertTokenizer's ids.
        let texts = try HuggingFaceChineseCLIPFixtures.texts(metadata)
        let ids = try ModelFixtures.tensor(reference, "input_ids")
        let mask = try ModelFixtures.tensor(reference, "attention_mask")
        let expectedIDs = try ids.to(.float32).floats().map { Int32($0) }, expectedMask = try mask.to(.float32).floats()
        for (row, text) in texts.enumerated() {
            let real = (row * 52..<(row + 1) * 52).filter { expectedMask[$0] != 0 }.map { expectedIDs[$0] }
            XCTAssertEqual(try bundle.inputs.encode(text).ids, real, text)
        }

        try withNoGrad {
            let pixels = try ModelFixtures.tensor(reference, "pixel_values")
            let image = try towers.imageProjection(towers.imageEncoder.encode(pixels, patchMask: nil).pooled)
            let text = try towers.textProjection(towers.textEncoder.towerOutput(ids, attentionMask: mask, tokenTypeIDs: nil).pooled)
            try assertReferenceOutputs(towers, image: image, text: text, reference: reference, label: "hf-chinese-clip")

            // The attention mask matters here (the padding would otherwise change [CLS]).
            let unmasked = try towers.textProjection(towers.textEncoder.towerOutput(ids, attentionMask: Tensor.ones(ids.shape, dtype: .int64), tokenTypeIDs: nil).pooled)
            XCTAssertGreaterThan(try maxAbsDifference(unmasked, text), 1e-2)

            // End to end: our tokenizer, decoder and squash bicubic resize against
            // ChineseCLIPImageProcessor's pixels.
            let embedder = try TowerEmbedder(bundle)
            let fromTexts = try maxAbsDifference(embedder.textFeatures(texts), normalized(ModelFixtures.tensor(reference, "text_features")))
            let fromFiles = try maxAbsDifference(embedder.imageFeatures(files: HuggingFaceChineseCLIPFixtures.photos(metadata)),
                                                 normalized(ModelFixtures.tensor(reference, "image_features")))
            reportModelParity("hf-chinese-clip normalised text features from texts", fromTexts)
            reportModelParity("hf-chinese-clip normalised image features from photo files", fromFiles)
            XCTAssertLessThanOrEqual(fromTexts, 1e-5)
            XCTAssertLessThanOrEqual(fromFiles, 1e-5)
        }
    }

    func testTheFamilyComesFromConfigJSONAndAWeightsFileAloneIsSentToItsDirectory() throws {
        let weights = HuggingFaceChineseCLIPFixtures.directory.appendingPathComponent("model.safetensors")
        XCTAssertEqual(ImportFamily.detect(try CheckpointFile.read(weights).keys), .huggingFaceChineseCLIP)
        assertFails(["ChineseCLIPModel's weights: import its directory"]) {
            _ = try ImportFamily.importModel(from: weights, family: nil, options: ImportOptions())
        }
        XCTAssertEqual(try importDirectory(HuggingFaceChineseCLIPFixtures.directory, family: .huggingFaceChineseCLIP).family, .huggingFaceChineseCLIP)
        assertFails(["--from hf-clip", "ChineseCLIPModel (hf-chinese-clip)"]) {
            _ = try importDirectory(HuggingFaceChineseCLIPFixtures.directory, family: .huggingFaceCLIP)
        }
        assertFails(["a folder", "cn-clip reads a checkpoint file"]) {
            _ = try importDirectory(HuggingFaceChineseCLIPFixtures.directory, family: .chineseCLIP)
        }
        assertFails(["leave out --config and --activation"]) {
            _ = try ImportFamily.importModel(from: HuggingFaceChineseCLIPFixtures.directory, family: nil, options: ImportOptions(activation: .gelu))
        }
    }

    /// Directories saved by transformers before 4.31 hold the `position_ids` / `token_type_ids`
    /// buffers: they are listed as ignored; fp32 weights are taken as they are.
    func testFP32WeightsWithOldBuffersImport() throws {
        let directory = try copiedDirectory()
        var tensors = try CheckpointFile.read(directory.appendingPathComponent("model.safetensors"))
        for (key, value) in tensors { tensors[key] = try value.to(.float32) }
        tensors["text_model.embeddings.position_ids"] = try Tensor.arange(0, 64, dtype: .int64).reshaped([1, 64])
        tensors["text_model.embeddings.token_type_ids"] = try Tensor.zeros([1, 64], dtype: .int64)
        tensors["vision_model.embeddings.position_ids"] = try Tensor.arange(0, 17, dtype: .int64).reshaped([1, 17])
        try FileManager.default.removeItem(at: directory.appendingPathComponent("model.safetensors"))
        try SafeTensors.write(tensors, to: directory.appendingPathComponent("model.safetensors"))
        let imported = try importDirectory(directory)
        XCTAssertEqual(imported.ignoredKeys, ["text_model.embeddings.position_ids", "text_model.embeddings.token_type_ids",
                                              "vision_model.embeddings.position_ids"])
        XCTAssertEqual(imported.convertedTensors, 0)
        let (reference, _) = try HuggingFaceChineseCLIPFixtures.reference()
        try withNoGrad {
            let towers = try XCTUnwrap(try imported.makeModel().towers)
            let pixels = try ModelFixtures.tensor(reference, "pixel_values")
            let image = try towers.imageProjection(towers.imageEncoder.encode(pixels, patchMask: nil).pooled)
            XCTAssertLessThanOrEqual(try maxAbsDifference(image, ModelFixtures.tensor(reference, "image_features")), 1e-5)
        }
    }

    func testARenamedKeyWrongShapeOrPoolerIsRefusedNamingIt() throws {
        let directory = try copiedDirectory()
        let weightsFile = directory.appendingPathComponent("model.safetensors")
        let original = try CheckpointFile.read(weightsFile)
        var renamed = original
        renamed["vision_model.pre_layernorm.weight"] = renamed.removeValue(forKey: "vision_model.pre_layrnorm.weight")
        try SafeTensors.write(renamed, to: weightsFile)
        assertFails(["missing key vision_model.pre_layrnorm.weight", "model.safetensors"]) { _ = try importDirectory(directory) }

        var reshaped = original
        reshaped["text_projection.weight"] = try Tensor.zeros([32, 24])
        try SafeTensors.write(reshaped, to: weightsFile)
        assertFails(["text_projection.weight has shape [32, 24], expected [24, 32]"]) { _ = try importDirectory(directory) }

        var extra = original
        extra["text_model.pooler.dense.weight"] = try Tensor.zeros([32, 32])
        try SafeTensors.write(extra, to: weightsFile)
        assertFails(["unexpected key text_model.pooler.dense.weight"]) { _ = try importDirectory(directory) }
    }

    func testConfigurationVocabularyAndProcessorFilesAreChecked() throws {
        let directory = try copiedDirectory()
        func restore(_ name: String, _ data: Data) throws { try data.write(to: directory.appendingPathComponent(name)) }

        var saved = try rewrite(directory, "config.json") { config in
            var text = config["text_config"] as? [String: Any] ?? [:]
            text["intermediate_size"] = 48
            config["text_config"] = text
        }
        assertFails(["text_model.encoder.layer.0.intermediate.dense.weight has shape [64, 32], expected [48, 32]"]) { _ = try importDirectory(directory) }
        try restore("config.json", saved)

        let vocabulary = directory.appendingPathComponent("vocab.txt")
        let words = try Data(contentsOf: vocabulary)
        try (String(decoding: words, as: UTF8.self) + "额外\n").write(to: vocabulary, atomically: true, encoding: .utf8)
        assertFails(["vocab.txt", "54 tokens, the text tower's vocab_size is 53"]) { _ = try importDirectory(directory) }
        try words.write(to: vocabulary)

        for (edit, expected) in [
            ({ (p: inout [String: Any]) in p["size"] = ["shortest_edge": 32] }, "size must be {\"height\": 32, \"width\": 32}"),
            ({ (p: inout [String: Any]) in p["size"] = ["height": 32, "width": 40] }, "size must be"),
            ({ (p: inout [String: Any]) in p["do_center_crop"] = true; p["crop_size"] = 28 }, "crop_size 28×28 with do_center_crop"),
            ({ (p: inout [String: Any]) in p["resample"] = 0 }, "resample 0 is not supported"),
        ] as [((inout [String: Any]) -> Void, String)] {
            saved = try rewrite(directory, "preprocessor_config.json", edit)
            assertFails([expected, "preprocessor_config.json"]) { _ = try importDirectory(directory) }
            try restore("preprocessor_config.json", saved)
        }
        // A bare size reads as the square squash; a crop of the full size is a no-op.
        saved = try rewrite(directory, "preprocessor_config.json") { $0["size"] = 32; $0["do_center_crop"] = true; $0["crop_size"] = 32 }
        XCTAssertEqual(try importDirectory(directory).preprocessing.image.resize, .squash)
        try restore("preprocessor_config.json", saved)
    }

    /// The same weights as transformers shards them (`save_pretrained(max_shard_size=…)`): the
    /// shards an index lists import to the single file's tensors; a missing shard, a key the index
    /// places elsewhere, or a shard named outside the directory is refused, naming it.
    func testShardedWeightsImportAsTheSingleFileDoes() throws {
        let (directory, shardNames) = try assertShardsImportAsTheSingleFile(folder: "sharded", index: "model.safetensors.index.json", suffix: ".safetensors")
        let fm = FileManager.default

        let index = "model.safetensors.index.json"
        var saved = try rewrite(directory, index) { object in
            var map = object["weight_map"] as? [String: String] ?? [:]
            map["logit_scale"] = map.values.first { $0 != map["logit_scale"] }
            object["weight_map"] = map
        }
        assertFails(["holds logit_scale, which model.safetensors.index.json places in"]) { _ = try importDirectory(directory) }
        try Data(saved).write(to: directory.appendingPathComponent(index))
        saved = try rewrite(directory, index) { object in
            var map = object["weight_map"] as? [String: String] ?? [:]
            map["logit_scale"] = "../model-elsewhere.safetensors"
            object["weight_map"] = map
        }
        assertFails(["shard \"../model-elsewhere.safetensors\" is not a file name inside the directory"]) { _ = try importDirectory(directory) }
        try Data(saved).write(to: directory.appendingPathComponent(index))
        let lastShard = try XCTUnwrap(shardNames.last { $0.hasSuffix(".safetensors") })
        try fm.removeItem(at: directory.appendingPathComponent(lastShard))
        assertFails([lastShard, "a shard model.safetensors.index.json lists"]) { _ = try importDirectory(directory) }
        try fm.removeItem(at: directory.appendingPathComponent(index))
        assertFails(["no model.safetensors, pytorch_model.bin, model.safetensors.index.json"]) { _ = try importDirectory(directory) }
    }

    /// A copy of the fixture directory with the shards of fixture folder `folder` in place of
    /// model.safetensors, checked to import to the single file's tensors.
    func assertShardsImportAsTheSingleFile(folder: String, index: String, suffix: String) throws -> (directory: URL, shardNames: [String]) {
        let single = try importDirectory(HuggingFaceChineseCLIPFixtures.directory)
        let directory = try copiedDirectory()
        let fm = FileManager.default
        try fm.removeItem(at: directory.appendingPathComponent("model.safetensors"))
        let shardFolder = HuggingFaceChineseCLIPFixtures.directory.appendingPathComponent(folder)
        let shardNames = try fm.contentsOfDirectory(atPath: shardFolder.path).sorted()
        XCTAssertTrue(shardNames.contains(index), "\(shardNames)")
        XCTAssertGreaterThan(shardNames.filter { $0.hasSuffix(suffix) }.count, 1, "\(shardNames)")
        for name in shardNames { try fm.copyItem(at: shardFolder.appendingPathComponent(name), to: directory.appendingPathComponent(name)) }
        let sharded = try importDirectory(directory)
        XCTAssertEqual(Set(sharded.weights.keys), Set(single.weights.keys))
        for (key, tensor) in single.weights { XCTAssertEqual(try maxAbsDifference(tensor, try XCTUnwrap(sharded.weights[key])), 0, key) }
        XCTAssertEqual(sharded.convertedTensors, single.convertedTensors)
        return (directory, shardNames)
    }

    /// The same shards as `save_pretrained(safe_serialization=False)` writes them: numbered
    /// `pytorch_model-…bin` pickles and `pytorch_model.bin.index.json` import to the single
    /// file's tensors.
    func testPickledShardsImportAsTheSingleFileDoes() throws {
        let (directory, shardNames) = try assertShardsImportAsTheSingleFile(folder: "sharded-bin", index: "pytorch_model.bin.index.json", suffix: ".bin")
        let lastShard = try XCTUnwrap(shardNames.last { $0.hasSuffix(".bin") })
        try FileManager.default.removeItem(at: directory.appendingPathComponent(lastShard))
        assertFails([lastShard, "a shard pytorch_model.bin.index.json lists"]) { _ = try importDirectory(directory) }
    }

    /// `vlp import DIR` + `vlp embed`, and `vlp evaluate zeroshot` in Chinese on the imported bundle.
    func testImportThenEmbedAndZeroShotThroughTheCLI() throws {
        let output = try folder().appendingPathComponent("hf-chinese-tiny")
        let imported = try runVLP(["import", HuggingFaceChineseCLIPFixtures.directory.path, "--output", output.path])
        XCTAssertEqual(imported.status, 0, imported.errors)
        XCTAssertTrue(imported.output.contains("import: hf-chinese-clip"), imported.output)
        XCTAssertTrue(imported.output.contains("images squash to 32 px, bicubic"), imported.output)
        let (reference, metadata) = try HuggingFaceChineseCLIPFixtures.reference()
        let texts = try HuggingFaceChineseCLIPFixtures.texts(metadata)
        try assertCLIEmbedding("text", bundle: output, inputs: texts, expected: try ModelFixtures.tensor(reference, "text_features"),
                               label: "hf-chinese-clip vlp embed text (CLI)")

        let zeroShot = try runVLP(["evaluate", "zeroshot", "--checkpoint", output.path, "--data", "scenes-shape", "--language", "zh", "--json"])
        XCTAssertEqual(zeroShot.status, 0, zeroShot.errors)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(zeroShot.output.utf8)) as? [String: Any], zeroShot.output)
    }
}
