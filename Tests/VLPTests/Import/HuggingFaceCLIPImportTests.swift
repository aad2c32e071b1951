import Foundation
import Torch
import XCTest
@testable import VLP

/// The Hugging Face CLIP fixture of scripts/reference/make_hfclip_fixtures.py: a small perturbed
/// `transformers.CLIPModel` directory (fp16 safetensors, a cut CLIP vocabulary, CLIPImageProcessor
/// settings) and its outputs.
enum HuggingFaceCLIPFixtures: ReferenceFixtures {
    static let directory = ModelFixtures.repositoryRoot.appendingPathComponent("Tests/VLPTests/Fixtures/hfclip")
}

final class HuggingFaceCLIPImportTests: ImportTestCase {
    override class var scratchName: String { "hfclip-import" }

    /// A copy of the fixture directory to edit.
    private func copiedDirectory() throws -> URL {
        let copy = try folder().appendingPathComponent("clip")
        try FileManager.default.copyItem(at: HuggingFaceCLIPFixtures.directory, to: copy)
        return copy
    }

    private func importDirectory(_ url: URL) throws -> ImportedModel {
        try withNoGrad { try ImportFamily.importModel(from: url, family: nil, options: ImportOptions()) }
    }

    func testDirectoryGivesTheReferenceFeatures() throws {
        let imported = try importDirectory(HuggingFaceCLIPFixtures.directory)
        XCTAssertEqual(imported.family, .huggingFaceCLIP)
        XCTAssertEqual(imported.ignoredKeys, [])
        XCTAssertEqual(imported.convertedTensors, imported.weights.count, "every tensor of the fixture is fp16")
        let vit = try XCTUnwrap(imported.configuration.vision.vit)
        XCTAssertEqual([vit.width, vit.layers, vit.heads, vit.patchSize, vit.imageSize, vit.mlpWidth], [32, 2, 2, 8, 32, 64])
        XCTAssertEqual(vit.activation, "quick_gelu")
        let text = try XCTUnwrap(imported.configuration.text.clip)
        XCTAssertEqual([text.vocabularySize, text.width, text.layers, text.heads, text.contextLength, text.mlpWidth], [914, 32, 2, 4, 77, 64])
        XCTAssertEqual(text.activation, .gelu)
        XCTAssertEqual(imported.configuration.embedDim, 24)

        let output = try folder().appendingPathComponent("bundle")
        try imported.write(to: output, overwrite: false)
        let bundle = try ModelBundle.open(output.path)
        XCTAssertEqual(bundle.preprocessing.text.vocabulary, "tokenizer/merges.txt")
        XCTAssertEqual(bundle.preprocessing.text.contextLength, 77)
        XCTAssertEqual(bundle.preprocessing.image.resize, .crop)
        XCTAssertEqual(bundle.preprocessing.image.interpolation, .bicubic)
        let towers = try XCTUnwrap(bundle.model.towers)
        let (reference, metadata) = try HuggingFaceCLIPFixtures.reference()

        // Tokenizer: our BPE over the copied merges.txt gives Hugging Face's ids (it pads with
        // <|endoftext|>; the real tokens are where the attention mask is 1).
        let texts = try HuggingFaceCLIPFixtures.texts(metadata)
        let ids = try ModelFixtures.tensor(reference, "input_ids")
        let mask = try ModelFixtures.tensor(reference, "attention_mask")
        let expectedIDs = try ids.to(.float32).floats().map { Int32($0) }, expectedMask = try mask.to(.float32).floats()
        for (row, text) in texts.enumerated() {
            let real = (row * 77..<(row + 1) * 77).filter { expectedMask[$0] != 0 }.map { expectedIDs[$0] }
            XCTAssertEqual(try bundle.inputs.encode(text).ids, real, text)
        }

        try withNoGrad {
            let pixels = try ModelFixtures.tensor(reference, "pixel_values")
            let image = try towers.imageProjection(towers.imageEncoder.encode(pixels, patchMask: nil).pooled)
            let text = try towers.textProjection(towers.textEncoder.towerOutput(ids, attentionMask: mask, tokenTypeIDs: nil).pooled)
            try assertReferenceOutputs(towers, image: image, text: text, reference: reference, label: "hf-clip")

            // End to end: our tokenizer, decoder, shortest-side bicubic resize and centre crop
            // against CLIPImageProcessor's pixels.
            let embedder = try TowerEmbedder(bundle)
            let fromTexts = try maxAbsDifference(embedder.textFeatures(texts), normalized(ModelFixtures.tensor(reference, "text_features")))
            let fromFiles = try maxAbsDifference(embedder.imageFeatures(files: HuggingFaceCLIPFixtures.photos(metadata)),
                                                 normalized(ModelFixtures.tensor(reference, "image_features")))
            reportModelParity("hf-clip normalised text features from texts", fromTexts)
            reportModelParity("hf-clip normalised image features from photo files", fromFiles)
            XCTAssertLessThanOrEqual(fromTexts, 1e-5)
            XCTAssertLessThanOrEqual(fromFiles, 1e-5)
        }
    }

    func testAWeightsFileAloneIsDetectedAndSentToItsDirectory() throws {
        let weights = HuggingFaceCLIPFixtures.directory.appendingPathComponent("model.safetensors")
        XCTAssertEqual(ImportFamily.detect(try CheckpointFile.read(weights).keys), .huggingFaceCLIP)
        assertFails(["import its directory"]) { _ = try ImportFamily.importModel(from: weights, family: nil, options: ImportOptions()) }
        assertFails(["a folder", "open-clip reads a checkpoint file"]) {
            _ = try ImportFamily.importModel(from: HuggingFaceCLIPFixtures.directory, family: .openCLIP, options: ImportOptions())
        }
        assertFails(["leave out --config and --activation"]) {
            _ = try ImportFamily.importModel(from: HuggingFaceCLIPFixtures.directory, family: nil, options: ImportOptions(activation: .gelu))
        }
    }

    func testARenamedKeyOrWrongShapeIsRefusedNamingIt() throws {
        let directory = try copiedDirectory()
        let weightsFile = directory.appendingPathComponent("model.safetensors")
        let original = try CheckpointFile.read(weightsFile)
        var renamed = original
        renamed["text_model.final_layer_norm.gamma"] = renamed.removeValue(forKey: "text_model.final_layer_norm.weight")
        try SafeTensors.write(renamed, to: weightsFile)
        assertFails(["missing key text_model.final_layer_norm.weight", "model.safetensors"]) { _ = try importDirectory(directory) }

        var reshaped = original
        reshaped["visual_projection.weight"] = try Tensor.zeros([32, 24])
        try SafeTensors.write(reshaped, to: weightsFile)
        assertFails(["visual_projection.weight has shape [32, 24], expected [24, 32]"]) { _ = try importDirectory(directory) }

        var extra = original
        extra["text_model.pooler.weight"] = try Tensor.zeros([4])
        try SafeTensors.write(extra, to: weightsFile)
        assertFails(["unexpected key text_model.pooler.weight"]) { _ = try importDirectory(directory) }
    }

    func testConfigurationTokenizerAndProcessorFilesAreChecked() throws {
        let directory = try copiedDirectory()
        func rewrite(_ name: String, _ edit: (inout [String: Any]) -> Void) throws -> Data {
            let url = directory.appendingPathComponent(name)
            let original = try Data(contentsOf: url)
            var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: original) as? [String: Any])
            edit(&object)
            try JSONSerialization.data(withJSONObject: object).write(to: url)
            return original
        }
        func restore(_ name: String, _ data: Data) throws { try data.write(to: directory.appendingPathComponent(name)) }

        var saved = try rewrite("config.json") { $0["model_type"] = "siglip" }
        assertFails(["model_type \"siglip\"", "only Hugging Face CLIPModel (\"clip\") and ChineseCLIPModel"]) { _ = try importDirectory(directory) }
        try restore("config.json", saved)

        // A CLIPModel's weights under a ChineseCLIPModel's config.json: its BERT keys are missing.
        saved = try rewrite("config.json") { $0["model_type"] = "chinese_clip" }
        assertFails(["missing key text_model."]) { _ = try importDirectory(directory) }
        try restore("config.json", saved)

        saved = try rewrite("config.json") { config in
            var vision = config["vision_config"] as? [String: Any] ?? [:]
            vision["intermediate_size"] = 48
            config["vision_config"] = vision
        }
        assertFails(["vision_model.encoder.layers.0.mlp.fc1.weight has shape [64, 32], expected [48, 32]"]) { _ = try importDirectory(directory) }
        try restore("config.json", saved)

        saved = try rewrite("config.json") { config in
            var text = config["text_config"] as? [String: Any] ?? [:]
            text["eos_token_id"] = 49407
            config["text_config"] = text
        }
        assertFails(["eos_token_id 49407 is not the tokenizer's <|endoftext|> id 913"]) { _ = try importDirectory(directory) }
        try restore("config.json", saved)

        saved = try rewrite("vocab.json") { vocabulary in (vocabulary["a"], vocabulary["b"]) = (vocabulary["b"], vocabulary["a"]) }
        assertFails(["vocab.json", "token"]) { _ = try importDirectory(directory) }
        try restore("vocab.json", saved)

        saved = try rewrite("preprocessor_config.json") { $0["crop_size"] = ["height": 30, "width": 30] }
        assertFails(["crop_size 30×30 must both be the model's image size 32"]) { _ = try importDirectory(directory) }
        try restore("preprocessor_config.json", saved)

        try FileManager.default.removeItem(at: directory.appendingPathComponent("preprocessor_config.json"))
        assertFails(["preprocessor_config.json"]) { _ = try importDirectory(directory) }
    }

    func testImportThenEmbedThroughTheCLI() throws {
        let output = try folder().appendingPathComponent("hf-tiny")
        let imported = try runVLP(["import", HuggingFaceCLIPFixtures.directory.path, "--output", output.path])
        XCTAssertEqual(imported.status, 0, imported.errors)
        XCTAssertTrue(imported.output.contains("import: hf-clip"), imported.output)
        let (reference, metadata) = try HuggingFaceCLIPFixtures.reference()
        let texts = try HuggingFaceCLIPFixtures.texts(metadata)
        try assertCLIEmbedding("text", bundle: output, inputs: texts, expected: try ModelFixtures.tensor(reference, "text_features"),
                               label: "hf-clip vlp embed text (CLI)")
    }
}
