import Foundation
import Torch
import XCTest
@testable import VLP

/// The OpenCLIP fixtures of scripts/reference/make_openclip_fixtures.py: a small open_clip CLIP
/// (ViT + CLIP text transformer, GELU) with every parameter perturbed, its checkpoints in
/// open_clip's layouts, its cut BPE merges file, and its outputs.
enum OpenCLIPFixtures: ReferenceFixtures {
    static let directory = ModelFixtures.repositoryRoot.appendingPathComponent("Tests/VLPTests/Fixtures/openclip")
    /// open_clip_train's epoch checkpoint, `module.` keys, fp32.
    static var epoch: URL { directory.appendingPathComponent("openclip-epoch.pt") }
    /// A plain state dict after `convert_weights_to_lp` (fp16), legacy format.
    static var half: URL { directory.appendingPathComponent("openclip-fp16.pt") }
    /// The same weights in a QuickGELU model, fp16, as a TorchScript archive (OpenAI's form).
    static var openAIArchive: URL { directory.appendingPathComponent("openai-jit.pt") }
    static var config: URL { directory.appendingPathComponent("config.json") }
    static var merges: URL { directory.appendingPathComponent("bpe-cut.txt.gz") }

    /// The options the fixture model needs: its head counts (2 vision, 4 text: not OpenAI's
    /// 64-wide convention at width 32) and its cut merges file.
    static func options() throws -> ImportOptions {
        ImportOptions(configuration: try ModelConfigurationRegistry.load(contentsOf: config), configurationSource: config.path,
                      vocabulary: merges)
    }

    /// The fixture's configuration with OpenAI's QuickGELU in both towers.
    static func quickGELUConfiguration() throws -> VLPModelConfiguration {
        var quick = try ModelConfigurationRegistry.load(contentsOf: config)
        if case .vit(var vit) = quick.vision { vit.activation = "quick_gelu"; quick.vision = .vit(vit) }
        if case .clip(var text) = quick.text { text.activation = .quickGELU; quick.text = .clip(text) }
        return quick
    }
}

final class OpenCLIPImportTests: ImportTestCase {
    override class var scratchName: String { "openclip-import" }

    /// The raw (unnormalised) image and text features of `towers` on the reference's own pixels and ids.
    private func rawFeatures(_ towers: DualEncoder, _ reference: [String: Tensor]) throws -> (image: Tensor, text: Tensor) {
        let pixels = try ModelFixtures.tensor(reference, "pixels")
        let ids = try ModelFixtures.tensor(reference, "text_ids")
        let image = try towers.imageProjection(towers.imageEncoder.encode(pixels, patchMask: nil).pooled)
        let text = try towers.textProjection(towers.textEncoder.towerOutput(ids, attentionMask: (ids .!= 0).to(.int64), tokenTypeIDs: nil).pooled)
        return (image, text)
    }

    /// Imports `file`, writes the bundle, opens it, and compares everything with the reference
    /// outputs under `suffix` ("" for the fp32 model, "_fp16" for the half-precision weights).
    private func checkParity(_ file: URL, suffix: String, label: String, options: ImportOptions? = nil) throws -> ImportedModel {
        let options = try options ?? OpenCLIPFixtures.options()
        let imported = try withNoGrad { try ImportFamily.importModel(from: file, family: .openCLIP, options: options) }
        let output = try folder().appendingPathComponent("bundle")
        try imported.write(to: output, overwrite: false)
        let bundle = try ModelBundle.open(output.path)
        let (reference, metadata) = try OpenCLIPFixtures.reference()
        let towers = try XCTUnwrap(bundle.model.towers)
        XCTAssertEqual(bundle.preprocessing.text.tokenizer, .clip)
        XCTAssertEqual(bundle.preprocessing.text.contextLength, 77)
        XCTAssertEqual(bundle.preprocessing.text.pooling, .endOfText)
        XCTAssertEqual(bundle.preprocessing.image.resize, .crop)
        XCTAssertEqual(bundle.preprocessing.image.interpolation, .bicubic)

        // Tokenizer: the bundle's BPE (the cut merges file, copied in) gives open_clip's ids.
        let texts = try OpenCLIPFixtures.texts(metadata)
        let ids = try ModelFixtures.tensor(reference, "text_ids")
        let expectedIDs = try ids.to(.float32).floats().map { Int32($0) }
        for (row, text) in texts.enumerated() {
            let encoded = try bundle.inputs.encode(text).ids
            XCTAssertEqual(encoded + Array(repeating: 0, count: 77 - encoded.count), Array(expectedIDs[(row * 77)..<((row + 1) * 77)]), text)
        }

        try withNoGrad {
            // Model alone, on open_clip's own inputs.
            let (rawImage, rawText) = try rawFeatures(towers, reference)
            let imageDiff = try maxAbsDifference(rawImage, ModelFixtures.tensor(reference, "image_features" + suffix))
            let textDiff = try maxAbsDifference(rawText, ModelFixtures.tensor(reference, "text_features" + suffix))
            let scale = try towers.temperature.scale()
            let scaleDiff = try maxAbsDifference(scale, ModelFixtures.tensor(reference, "logit_scale"))
            let logits = try (scale * normalized(rawImage)).matmul(normalized(rawText).transposed(0, 1))
            let logitsDiff = try maxAbsDifference(logits, ModelFixtures.tensor(reference, "logits_per_image" + suffix))
            reportModelParity("open-clip\(label) image features", imageDiff)
            reportModelParity("open-clip\(label) text features", textDiff)
            reportModelParity("open-clip\(label) logit scale", scaleDiff)
            reportModelParity("open-clip\(label) logits per image", logitsDiff)
            XCTAssertLessThanOrEqual(imageDiff, 1e-5)
            XCTAssertLessThanOrEqual(textDiff, 1e-5)
            XCTAssertLessThanOrEqual(scaleDiff, 1e-5)
            // Logits are cosine similarities times the scale (≈ 19): 1e-5 of the features, scaled.
            XCTAssertLessThanOrEqual(logitsDiff, 1e-4)

            // Padding after the end-of-text token changes nothing (causal attention): the same
            // ids cut just after the longest text's end-of-text token.
            let longest = Int(try ids.argmax(dim: -1).to(.float32).floats().max() ?? 76) + 1
            XCTAssertLessThan(longest, 77)
            let shortIDs = try ids.narrowed(dim: 1, start: 0, length: longest)
            let short = try towers.textProjection(towers.textEncoder.towerOutput(shortIDs, attentionMask: (shortIDs .!= 0).to(.int64), tokenTypeIDs: nil).pooled)
            XCTAssertLessThanOrEqual(try maxAbsDifference(short, rawText), 1e-6)

            // End to end as `vlp embed` runs: our tokenizer and our decode + shortest-side bicubic
            // resize + centre crop.
            let embedder = try TowerEmbedder(bundle)
            let fromTexts = try maxAbsDifference(embedder.textFeatures(texts), normalized(ModelFixtures.tensor(reference, "text_features" + suffix)))
            let fromFiles = try maxAbsDifference(embedder.imageFeatures(files: OpenCLIPFixtures.photos(metadata)),
                                                 normalized(ModelFixtures.tensor(reference, "image_features" + suffix)))
            reportModelParity("open-clip\(label) normalised text features from texts", fromTexts)
            reportModelParity("open-clip\(label) normalised image features from photo files", fromFiles)
            XCTAssertLessThanOrEqual(fromTexts, 1e-5)
            XCTAssertLessThanOrEqual(fromFiles, 1e-5)
        }
        return imported
    }

    /// open_clip_train's epoch checkpoint ({"epoch", "name", "state_dict", "optimizer"}, `module.` keys, fp32).
    func testEpochCheckpointGivesTheReferenceFeatures() throws {
        let imported = try checkParity(OpenCLIPFixtures.epoch, suffix: "", label: "")
        XCTAssertEqual(imported.family, .openCLIP)
        XCTAssertEqual(imported.convertedTensors, 0)
        XCTAssertEqual(imported.ignoredKeys, [])
        let vit = try XCTUnwrap(imported.configuration.vision.vit)
        XCTAssertEqual([vit.width, vit.layers, vit.heads, vit.patchSize, vit.imageSize, vit.mlpWidth], [32, 2, 2, 8, 32, 128])
        XCTAssertEqual(vit.activation, "gelu")
        let text = try XCTUnwrap(imported.configuration.text.clip)
        XCTAssertEqual([text.vocabularySize, text.width, text.layers, text.heads, text.contextLength, text.mlpWidth],
                       [914, 32, 2, 4, 77, 128])
        XCTAssertEqual(text.activation, .gelu)
        XCTAssertEqual(imported.configuration.embedDim, 32)
    }

    /// A plain state dict after open_clip's `convert_weights_to_lp` (fp16), in torch's legacy
    /// format: equal to the reference run on the same fp16 values.
    func testHalfPrecisionStateDictGivesTheReferenceFeatures() throws {
        let imported = try checkParity(OpenCLIPFixtures.half, suffix: "_fp16", label: " fp16")
        // Linear, convolution and attention weights and the two projections; not the layer norms,
        // embeddings, class token or logit scale.
        XCTAssertEqual(imported.convertedTensors, 35)
        let (reference, _) = try OpenCLIPFixtures.reference()
        try withNoGrad {
            let towers = try XCTUnwrap(try imported.makeModel().towers)
            let fromFP32 = try maxAbsDifference(rawFeatures(towers, reference).image, ModelFixtures.tensor(reference, "image_features"))
            reportModelParity("open-clip fp16 weights vs the fp32 model, image features", fromFP32)
            XCTAssertLessThanOrEqual(fromFP32, 5e-3)
        }
    }

    /// OpenAI's form: a TorchScript archive (`torch.jit.save`) of a QuickGELU model with fp16
    /// weights, read through libtorch's loader; the restricted unpickler refuses it by name.
    func testOpenAITorchScriptArchiveGivesTheReferenceFeatures() throws {
        var options = try OpenCLIPFixtures.options()
        options.configuration = try OpenCLIPFixtures.quickGELUConfiguration()
        let imported = try checkParity(OpenCLIPFixtures.openAIArchive, suffix: "_jit", label: " TorchScript", options: options)
        XCTAssertEqual(imported.convertedTensors, 35)
        XCTAssertEqual(imported.ignoredKeys, ["attn_mask"])
        XCTAssertEqual(imported.configuration.text.clip?.activation, .quickGELU)
        XCTAssertTrue(try TorchScriptArchive.isArchive(OpenCLIPFixtures.openAIArchive))
        XCTAssertFalse(try TorchScriptArchive.isArchive(OpenCLIPFixtures.epoch))
        XCTAssertFalse(try TorchScriptArchive.isArchive(OpenCLIPFixtures.half))
        assertFails([OpenCLIPFixtures.openAIArchive.path, "a TorchScript archive", "vlp import"]) {
            _ = try CheckpointFile.read(OpenCLIPFixtures.openAIArchive)
        }
    }

    /// An archive is taken to be OpenAI's (QuickGELU) only where nothing states the activation.
    func testATorchScriptArchiveAssumesQuickGELUUnlessTold() throws {
        XCTAssertEqual(ImportOptions().assuming(activation: .quickGELU).activation, .quickGELU)
        XCTAssertEqual(ImportOptions(activation: .gelu).assuming(activation: .quickGELU).activation, .gelu)
        let configured = try OpenCLIPFixtures.options()
        XCTAssertNil(configured.assuming(activation: .quickGELU).activation)
        // The fixture's own configuration says GELU: the archive then imports as GELU, and gives
        // other features than the QuickGELU reference.
        let imported = try withNoGrad { try ImportFamily.importModel(from: OpenCLIPFixtures.openAIArchive, family: nil, options: configured) }
        XCTAssertEqual(imported.family, .openCLIP)
        XCTAssertEqual(imported.configuration.text.clip?.activation, .gelu)
        let (reference, _) = try OpenCLIPFixtures.reference()
        try withNoGrad {
            let towers = try XCTUnwrap(try imported.makeModel().towers)
            XCTAssertGreaterThan(try maxAbsDifference(rawFeatures(towers, reference).text, ModelFixtures.tensor(reference, "text_features_jit")), 1e-3)
        }
    }

    func testFamilyIsDetectedFromTheKeys() throws {
        XCTAssertEqual(ImportFamily.detect(try CheckpointFile.read(OpenCLIPFixtures.epoch).keys), .openCLIP)
        XCTAssertEqual(ImportFamily.detect(try CheckpointFile.read(OpenCLIPFixtures.half).keys), .openCLIP)
        XCTAssertEqual(ImportFamily.detect(try CheckpointFile.read(CNCLIPFixtures.training).keys), .chineseCLIP)
        let imported = try withNoGrad { try ImportFamily.importModel(from: OpenCLIPFixtures.half, family: nil, options: try OpenCLIPFixtures.options()) }
        XCTAssertEqual(imported.family, .openCLIP)
    }

    /// The activation is not in the weights: QuickGELU (OpenAI's) computes other features than
    /// the GELU the fixture was made with; a configuration and `--activation` that disagree are refused.
    func testTheActivationIsChosenNotRead() throws {
        var options = try OpenCLIPFixtures.options()
        options.configuration = try OpenCLIPFixtures.quickGELUConfiguration()
        let imported = try withNoGrad { try ImportFamily.importModel(from: OpenCLIPFixtures.epoch, family: .openCLIP, options: options) }
        XCTAssertEqual(imported.configuration.text.clip?.activation, .quickGELU)
        let (reference, _) = try OpenCLIPFixtures.reference()
        try withNoGrad {
            let towers = try XCTUnwrap(try imported.makeModel().towers)
            let (image, text) = try rawFeatures(towers, reference)
            XCTAssertGreaterThan(try maxAbsDifference(image, ModelFixtures.tensor(reference, "image_features")), 1e-3)
            XCTAssertGreaterThan(try maxAbsDifference(text, ModelFixtures.tensor(reference, "text_features")), 1e-3)
        }
        options.activation = .gelu
        assertFails(["its activation is quick_gelu, --activation says gelu"]) {
            _ = try withNoGrad { try ImportFamily.importModel(from: OpenCLIPFixtures.epoch, family: .openCLIP, options: options) }
        }
    }

    // MARK: malformed checkpoints

    /// The fixture's plain state dict, edited by `edit`, saved as safetensors and imported.
    /// The fixture's fp16 state dict, edited, imported with `options` (the fixture's by default).
    private func importEdited(_ edit: (inout [String: Tensor]) throws -> Void, options: ImportOptions? = nil) throws -> ImportedModel {
        try importEdited(OpenCLIPFixtures.half, family: .openCLIP, options: try options ?? OpenCLIPFixtures.options(), edit)
    }

    func testATruncatedCheckpointIsRefusedNamingTheFile() throws {
        for source in [OpenCLIPFixtures.epoch, OpenCLIPFixtures.half, OpenCLIPFixtures.openAIArchive] {
            let bytes = try Data(contentsOf: source)
            let file = try folder().appendingPathComponent("truncated.pt")
            try bytes.prefix(bytes.count / 2).write(to: file)
            assertFails([file.path]) { _ = try ImportFamily.importModel(from: file, family: .openCLIP, options: try OpenCLIPFixtures.options()) }
        }
    }

    func testARenamedKeyIsRefusedNamingIt() throws {
        assertFails(["missing key ln_final.weight"]) {
            _ = try importEdited { $0["ln_final.gamma"] = $0.removeValue(forKey: "ln_final.weight") }
        }
        assertFails(["missing key transformer.resblocks.1.mlp.c_fc.bias"]) {
            _ = try importEdited { $0["transformer.resblocks.1.mlp.c_fc.b"] = $0.removeValue(forKey: "transformer.resblocks.1.mlp.c_fc.bias") }
        }
        assertFails(["unexpected key logit_bias"]) {
            _ = try importEdited { $0["logit_bias"] = try Tensor.zeros([]) }
        }
        assertFails(["unexpected key transformer.resblocks.0.ls_1.gamma"]) {
            _ = try importEdited { $0["transformer.resblocks.0.ls_1.gamma"] = try Tensor.zeros([32]) }
        }
        assertFails(["visual.trunk.stem.weight", "timm"]) {
            _ = try importEdited { $0["visual.trunk.stem.weight"] = try Tensor.zeros([32]) }
        }
    }

    func testAWrongShapedTensorIsRefusedNamingIt() throws {
        assertFails(["text_projection has shape [32, 16], expected [32, 32]"]) {
            _ = try importEdited { $0["text_projection"] = try Tensor.zeros([32, 16]) }
        }
        assertFails(["transformer.resblocks.0.attn.in_proj_weight has shape [96, 31], expected [96, 32]"]) {
            _ = try importEdited { $0["transformer.resblocks.0.attn.in_proj_weight"] = try Tensor.zeros([96, 31]) }
        }
        assertFails(["positional_embedding has shape [77], expected 2 dimensions"]) {
            _ = try importEdited { $0["positional_embedding"] = try Tensor.zeros([77]) }
        }
        assertFails(["ln_final.bias has shape [31], expected [32]"]) {
            _ = try importEdited { $0["ln_final.bias"] = try Tensor.zeros([31]) }
        }
    }

    /// The causal-mask buffer and OpenAI's constants are ignored and listed; in the epoch layout
    /// the optimizer's state is too, and anything else beside the state dict is refused.
    func testBuffersAndOptimizerStateAreListedAsIgnored() throws {
        let imported = try importEdited { tensors in
            tensors["attn_mask"] = try Tensor.zeros([77, 77])
            tensors = Dictionary(uniqueKeysWithValues: tensors.map { ("state_dict.module." + $0.key, $0.value) })
            tensors["optimizer.state.0.exp_avg"] = try Tensor.zeros([32])
        }
        XCTAssertEqual(imported.ignoredKeys, ["attn_mask", "optimizer.state.0.exp_avg"])
        assertFails(["unexpected key ema.visual.proj beside state_dict"]) {
            _ = try importEdited { tensors in
                tensors = Dictionary(uniqueKeysWithValues: tensors.map { ("state_dict." + $0.key, $0.value) })
                tensors["ema.visual.proj"] = try Tensor.zeros([32, 32])
            }
        }
    }

    func testHeadCountsNeedAConfigurationWhenTheConventionDoesNotDivide() throws {
        var options = try OpenCLIPFixtures.options()
        options.configuration = nil
        assertFails(["vision width 32 is not a multiple of CLIP's head width 64", "--config"]) {
            _ = try withNoGrad { try ImportFamily.importModel(from: OpenCLIPFixtures.epoch, family: .openCLIP, options: options) }
        }
        var wrong = try ModelConfigurationRegistry.load(contentsOf: OpenCLIPFixtures.config)
        if case .clip(var text) = wrong.text { text.layers = 3; text.contextLength = 64; wrong.text = .clip(text) }
        options.configuration = wrong
        assertFails(["text.layers is 3, the checkpoint's 2", "text.context_length is 64, the checkpoint's 77"]) {
            _ = try withNoGrad { try ImportFamily.importModel(from: OpenCLIPFixtures.epoch, family: .openCLIP, options: options) }
        }
        options.configuration = try ModelConfigurationRegistry.load(contentsOf: CNCLIPFixtures.config)
        assertFails(["a clip text tower", "bert text tower"]) {
            _ = try withNoGrad { try ImportFamily.importModel(from: OpenCLIPFixtures.epoch, family: .openCLIP, options: options) }
        }
    }

    /// Sizes come from the shapes and the heads from OpenAI's convention (64-wide) at any size: a
    /// state dict of zeros shaped like a 128-wide, 1-layer ViT with patch 4 at 16 px and a 64-wide,
    /// 3-layer text tower with 10 positions, embed dim 48.
    func testSizesAreInferredFromTheShapes() throws {
        var tensors: [String: Tensor] = [:]
        func block(_ prefix: String, _ w: Int) throws {
            for (name, shape) in [("ln_1.weight", [w]), ("ln_1.bias", [w]), ("attn.in_proj_weight", [3 * w, w]), ("attn.in_proj_bias", [3 * w]),
                                  ("attn.out_proj.weight", [w, w]), ("attn.out_proj.bias", [w]), ("ln_2.weight", [w]), ("ln_2.bias", [w]),
                                  ("mlp.c_fc.weight", [4 * w, w]), ("mlp.c_fc.bias", [4 * w]), ("mlp.c_proj.weight", [w, 4 * w]), ("mlp.c_proj.bias", [w])] {
                tensors[prefix + name] = try Tensor.zeros(shape, dtype: .float16)
            }
        }
        tensors["visual.conv1.weight"] = try Tensor.zeros([128, 3, 4, 4])
        tensors["visual.class_embedding"] = try Tensor.zeros([128])
        tensors["visual.positional_embedding"] = try Tensor.zeros([17, 128])
        for name in ["ln_pre", "ln_post"] { for part in ["weight", "bias"] { tensors["visual.\(name).\(part)"] = try Tensor.zeros([128]) } }
        try block("visual.transformer.resblocks.0.", 128)
        tensors["visual.proj"] = try Tensor.zeros([128, 48])
        tensors["token_embedding.weight"] = try Tensor.zeros([914, 64])
        tensors["positional_embedding"] = try Tensor.zeros([10, 64])
        for i in 0..<3 { try block("transformer.resblocks.\(i).", 64) }
        for part in ["weight", "bias"] { tensors["ln_final.\(part)"] = try Tensor.zeros([64]) }
        tensors["text_projection"] = try Tensor.zeros([64, 48])
        tensors["logit_scale"] = try Tensor.zeros([])
        let imported = try withNoGrad {
            try ImportFamily.openCLIP.convert(tensors, source: "synthetic", options: ImportOptions(vocabulary: OpenCLIPFixtures.merges))
        }
        let vit = try XCTUnwrap(imported.configuration.vision.vit)
        XCTAssertEqual([vit.width, vit.layers, vit.heads, vit.patchSize, vit.imageSize, vit.mlpWidth], [128, 1, 2, 4, 16, 512])
        let text = try XCTUnwrap(imported.configuration.text.clip)
        XCTAssertEqual([text.vocabularySize, text.width, text.layers, text.heads, text.contextLength, text.mlpWidth], [914, 64, 3, 1, 10, 256])
        XCTAssertEqual(imported.configuration.embedDim, 48)
        XCTAssertEqual(imported.preprocessing.text.contextLength, 10, "the context length is the text tower's positions")
        XCTAssertEqual(imported.convertedTensors, 48)
    }

    // MARK: the model configuration

    /// A `"kind": "clip"` text section decodes to the CLIP text tower and is written back with its
    /// kind; a section without a kind is a BERT's, as every configuration before kinds.
    func testTheTextKindRoundTripsAndDefaultsToBert() throws {
        let configuration = try ModelConfigurationRegistry.load(contentsOf: OpenCLIPFixtures.config)
        XCTAssertEqual(configuration.text.kind, .clip)
        XCTAssertEqual(configuration.text.pooling, .endOfText)
        let encoded = try JSONEncoder().encode(configuration)
        XCTAssertTrue(String(decoding: encoded, as: UTF8.self).contains("\"kind\":\"clip\""))
        XCTAssertEqual(try JSONDecoder().decode(VLPModelConfiguration.self, from: encoded), configuration)
        let bert = try ModelConfigurationRegistry.load(contentsOf: CNCLIPFixtures.config)
        XCTAssertEqual(bert.text.kind, .bert)
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(bert), as: UTF8.self).contains("\"kind\""))
        // The named ViT-B/32 configurations differ only in the activation of both towers.
        let laion = try ModelConfigurationRegistry.load("openclip-vit-b-32"), openAI = try ModelConfigurationRegistry.load("openai-vit-b-32")
        XCTAssertEqual([laion.text.clip?.activation, openAI.text.clip?.activation], [.gelu, .quickGELU])
        XCTAssertEqual([laion.vision.vit?.activation, openAI.vision.vit?.activation], ["gelu", "quick_gelu"])
        XCTAssertEqual([laion.vision.vit?.heads, laion.text.clip?.heads, laion.text.maxPositions, laion.embedDim], [12, 8, 77, 512])
        let joint = configuration.with(architecture: .singleStream)
        XCTAssertThrowsError(try joint.validate(source: "test")) { XCTAssertTrue("\($0)".contains("needs a BERT text tower"), "\($0)") }
    }

    // MARK: the command line

    func testImportThenEmbedZeroShotAndIndexThroughTheCLI() throws {
        let root = try folder()
        let output = root.appendingPathComponent("openclip-tiny")
        let arguments = ["import", OpenCLIPFixtures.half.path, "--output", output.path,
                         "--config", OpenCLIPFixtures.config.path, "--vocabulary", OpenCLIPFixtures.merges.path]
        let imported = try runVLP(arguments)
        XCTAssertEqual(imported.status, 0, imported.errors)
        XCTAssertTrue(imported.output.contains("import: open-clip"), imported.output)
        XCTAssertTrue(imported.output.contains("CLIP text transformer 32 wide, 2 layers, 4 heads, 914 tokens, context 77, gelu"), imported.output)

        let (reference, metadata) = try OpenCLIPFixtures.reference()
        let texts = try OpenCLIPFixtures.texts(metadata)
        try assertCLIEmbedding("text", bundle: output, inputs: texts, expected: try ModelFixtures.tensor(reference, "text_features_fp16"),
                               label: "open-clip vlp embed text (CLI)")

        let zeroShot = try runVLP(["evaluate", "zeroshot", "--checkpoint", output.path, "--data", "scenes-shape", "--language", "en", "--json"])
        XCTAssertEqual(zeroShot.status, 0, zeroShot.errors)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(zeroShot.output.utf8)) as? [String: Any], zeroShot.output)

        let photos = root.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        for path in try OpenCLIPFixtures.photos(metadata) {
            try FileManager.default.copyItem(atPath: path, toPath: photos.appendingPathComponent(URL(fileURLWithPath: path).lastPathComponent).path)
        }
        let index = root.appendingPathComponent("index").path
        let built = try runVLP(["index", "--checkpoint", output.path, "--images", photos.path, "--out", index])
        XCTAssertEqual(built.status, 0, built.errors)
        XCTAssertTrue(built.output.contains("indexed 2 images"), built.output)
        let search = try runVLP(["search", "--index", index, texts[0], "-k", "2", "--json"])
        XCTAssertEqual(search.status, 0, search.errors)
        let answer = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(search.output.utf8)) as? [String: Any])
        XCTAssertEqual((answer["results"] as? [Any])?.count, 2, search.output)
    }

    /// Started from another folder without --vocabulary, the import finds the family's vocabulary
    /// in the package's assets (it then refuses it here: the fixture's cut vocabulary is smaller).
    func testTheDefaultVocabularyIsFoundFromAnotherFolder() throws {
        let elsewhere = try folder()
        let imported = try runVLP(["import", "--from", "open-clip", OpenCLIPFixtures.half.path, "--output", elsewhere.appendingPathComponent("b").path,
                                   "--config", OpenCLIPFixtures.config.path], in: elsewhere)
        XCTAssertNotEqual(imported.status, 0)
        let located = ModelFixtures.repositoryRoot.appendingPathComponent(TokenizerKind.clip.defaultFile).standardizedFileURL.path
        XCTAssertTrue(imported.errors.contains("the tokenizer (\(located)) has 49408 tokens, the text tower's embedding 914"), imported.errors)
    }

    /// `vlp finetune retrieval` continues from an imported OpenCLIP bundle (CLIP text tower, BPE
    /// tokenizer, crop resize) and the checkpoint it writes keeps the text kind and the preprocessing.
    func testFinetuneFromAnImportedBundleKeepsItsTowerAndPreprocessing() throws {
        let root = try folder()
        let output = root.appendingPathComponent("openclip-tiny")
        let imported = try runVLP(["import", "--from", "open-clip", OpenCLIPFixtures.epoch.path, "--output", output.path,
                                   "--config", OpenCLIPFixtures.config.path, "--vocabulary", OpenCLIPFixtures.merges.path])
        XCTAssertEqual(imported.status, 0, imported.errors)
        let tuned = try runVLP(["finetune", "retrieval", "--checkpoint", output.path, "--data", "scenes:icr:train",
                                "--steps", "2", "--batch-size", "4", "--output", root.appendingPathComponent("tuned").path])
        XCTAssertEqual(tuned.status, 0, tuned.errors)
        let losses = try MetricsLog.read(root.appendingPathComponent("tuned/metrics.jsonl")).compactMap { $0["gcpr"] as? Double }
        XCTAssertEqual(losses.count, 2)
        XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(losses)")
        let bundle = try ModelBundle.open(root.appendingPathComponent("tuned").path, notice: { XCTFail("notice: \($0)") })
        let original = try ModelBundle.open(output.path)
        XCTAssertEqual(bundle.preprocessing, original.preprocessing, "the fine-tuned checkpoint is prepared as the imported model")
        XCTAssertEqual(bundle.model.configuration.text.kind, .clip)
        XCTAssertEqual(bundle.inputs.tokenizer.vocabularySize, 914)
    }
}
