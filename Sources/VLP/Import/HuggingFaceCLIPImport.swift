import Foundation
import Torch

/// Hugging Face `CLIPModel` directories (transformers 4.x `save_pretrained`) as a swift-vlp dual
/// encoder with a CLIP text transformer.
///
/// Read from the directory: `config.json` (every size, the head counts and each tower's
/// `hidden_act`, with transformers' defaults for the keys it leaves out), the weights
/// (`model.safetensors`, else `pytorch_model.bin`, else the shards an `*.index.json` lists —
/// `HuggingFaceWeights`; fp16 converted to float32), the tokenizer's
/// `merges.txt` (copied into the bundle; `vocab.json` is checked to number the tokens as CLIP's
/// BPE over those merges does) and `preprocessor_config.json` (shortest edge, centre crop,
/// resampling filter, mean and std).
///
/// Our modules carry Hugging Face CLIP's names, so the mapping is by prefix: `text_model.*` →
/// `text.*` (`CLIPTextTransformer`), `vision_model.*` → `vision.*` (`VisionTransformer`),
/// `text_projection.weight` and `visual_projection.weight` as they are, `logit_scale` →
/// `temperature.logit_scale`. The text's vector is the state at the end-of-text token, which
/// transformers finds as the largest id (configs with the legacy `eos_token_id` 2) or as the
/// first `eos_token_id` — the same token when `eos_token_id` is the tokenizer's `<|endoftext|>`,
/// which is checked. Deliberately ignored: the `position_ids` buffers of both towers' embeddings.
/// Anything else is an error naming it.
///
/// Other model types are refused (`ChineseCLIPModel` has its own importer).
public enum HuggingFaceCLIPImport {
    /// Keys by which `ImportFamily` detects a CLIPModel weights file given on its own.
    static let markerKeys: Set<String> = ["text_model.embeddings.token_embedding.weight",
                                          "vision_model.embeddings.patch_embedding.weight", "visual_projection.weight"]
    static let ignoredKeys: Set<String> = ["text_model.embeddings.position_ids", "vision_model.embeddings.position_ids"]
    /// The bundle keeps Hugging Face's merges file under its own name.
    static let bundleMergesFile = ModelBundle.tokenizerFolder + "/merges.txt"

    static func importDirectory(_ folder: URL, options: ImportOptions) throws -> ImportedModel {
        func file(_ name: String) -> URL { folder.appendingPathComponent(name) }
        let fm = FileManager.default
        let configFile = file("config.json")
        let hf = try HuggingFaceCLIPConfiguration.read(HuggingFaceCLIPConfiguration.self, from: configFile)
        guard hf.modelType == "clip" else {
            throw ModelError.invalidConfiguration(source: configFile.path, reason: "model_type \"\(hf.modelType)\", not a CLIPModel's \"clip\"")
        }
        try refuseSizeOptions(options)
        let configuration = try makeConfiguration(hf, source: configFile.path)
        let (tensors, weightsFile) = try HuggingFaceWeights.read(in: folder)
        var ledger = SourceTensors(tensors, source: weightsFile.path)
        let weights = try mapWeights(&ledger, configuration)
        ledger.ignore { ignoredKeys.contains($0) }
        try ledger.finish()

        let merges = options.vocabulary ?? file("merges.txt")
        guard fm.fileExists(atPath: merges.path) else {
            throw ModelError.missingFile(path: merges.path, hint: "CLIP's BPE merges (Hugging Face's merges.txt) or give --vocabulary")
        }
        let tokenizer = try CLIPTokenizer(mergesFile: merges.path)
        if options.vocabulary == nil { try checkVocabulary(file("vocab.json"), matches: tokenizer) }
        let eos = hf.text.eosTokenID
        guard eos == 2 || eos == Int(tokenizer.endID) else {
            throw ModelError.invalidConfiguration(source: configFile.path, reason: "text_config.eos_token_id \(eos) is not the tokenizer's <|endoftext|> id \(tokenizer.endID) (nor the legacy 2, pooling at the largest id)")
        }
        let preprocessing = ModelPreprocessing(
            text: .init(tokenizer: .clip, vocabulary: bundleMergesFile, contextLength: options.contextLength ?? hf.text.maxPositions,
                        pooling: .endOfText),
            image: try imagePreprocessing(file("preprocessor_config.json"), imageSize: hf.vision.imageSize))
        let imported = ImportedModel(family: .huggingFaceCLIP, source: folder.path, configuration: configuration, weights: weights,
                                     preprocessing: preprocessing, vocabulary: merges, ignoredKeys: ledger.ignored,
                                     convertedTensors: ledger.convertedCount)
        _ = try imported.makeModel()  // the weights fit the model they describe, strictly
        return imported
    }

    /// The family of the Hugging Face model directory `folder`, by its `config.json`'s `model_type`.
    static func directoryFamily(_ folder: URL) throws -> ImportFamily {
        let configFile = folder.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configFile.path) else {
            throw ModelError.missingFile(path: configFile.path, hint: "a Hugging Face model directory holds config.json beside its weights")
        }
        struct ModelType: Decodable {
            var modelType: String?
            enum CodingKeys: String, CodingKey { case modelType = "model_type" }
        }
        switch try HuggingFaceCLIPConfiguration.read(ModelType.self, from: configFile).modelType {
        case "clip": return .huggingFaceCLIP
        case "chinese_clip": return .huggingFaceChineseCLIP
        case let other:
            throw ModelError.invalidConfiguration(source: configFile.path, reason: "model_type \(other.map { "\"\($0)\"" } ?? "absent"): only Hugging Face CLIPModel (\"clip\") and ChineseCLIPModel (\"chinese_clip\") directories are imported")
        }
    }

    /// A directory's `config.json` states every size, head count and activation: options that
    /// would set them are refused rather than ignored.
    static func refuseSizeOptions(_ options: ImportOptions) throws {
        if options.configuration != nil || options.activation != nil {
            throw ModelError.invalidConfiguration(source: options.configuration != nil ? options.configurationSource : "--activation",
                                                  reason: "a Hugging Face directory's config.json states every size, head count and activation; leave out --config and --activation")
        }
    }

    /// The dual encoder `config.json` describes.
    static func makeConfiguration(_ hf: HuggingFaceCLIPConfiguration, source: String) throws -> VLPModelConfiguration {
        func activation(_ name: String, _ key: String) throws -> TransformerMLP.ActivationKind {
            guard let kind = TransformerMLP.ActivationKind(rawValue: name) else {
                throw ModelError.invalidConfiguration(source: source, reason: "\(key) \"\(name)\" is not supported (gelu, quick_gelu)")
            }
            return kind
        }
        let t = hf.text, v = hf.vision
        let text = CLIPTextConfiguration(vocabularySize: t.vocabularySize, width: t.hiddenSize, layers: t.layers, heads: t.heads,
                                         contextLength: t.maxPositions, mlpWidth: t.intermediateSize, layerNormEps: t.layerNormEps,
                                         activation: try activation(t.hiddenActivation, "text_config.hidden_act"))
        let vision = VisionTransformerConfiguration(imageSize: v.imageSize, patchSize: v.patchSize, width: v.hiddenSize, layers: v.layers,
                                                    heads: v.heads, mlpWidth: v.intermediateSize, projectionDim: 0, layerNormEps: v.layerNormEps,
                                                    activation: try activation(v.hiddenActivation, "vision_config.hidden_act").rawValue,
                                                    inputChannels: v.channels)
        let configuration = VLPModelConfiguration(architecture: .dualEncoder, embedDim: hf.projectionDim, text: .clip(text), vision: vision)
        try configuration.validate(source: source)
        return configuration
    }

    /// Every tensor of the model `configuration` builds, taken from `ledger` under its Hugging
    /// Face key with the model's shape (`CLIPModel` and `ChineseCLIPModel` name them alike: our
    /// BERT, ViT and CLIP text modules carry Hugging Face's names).
    static func mapWeights(_ ledger: inout SourceTensors, _ configuration: VLPModelConfiguration) throws -> [String: Tensor] {
        let model = try PretrainingModel(configuration)
        var weights: [String: Tensor] = [:]
        for entry in model.module.stateDict() {
            weights[entry.name] = try ledger.take(sourceKey(of: entry.name), shape: entry.tensor.shape)
        }
        return weights
    }

    /// The Hugging Face key of our `key`.
    static func sourceKey(of key: String) -> String {
        if key.hasPrefix("text.") { return "text_model." + key.dropFirst("text.".count) }
        if key.hasPrefix("vision.") { return "vision_model." + key.dropFirst("vision.".count) }
        if key == "temperature.logit_scale" { return "logit_scale" }
        return key
    }

    /// Checks that `vocab.json` numbers every token as `tokenizer` does (Hugging Face names the
    /// special tokens `<|startoftext|>` / `<|endoftext|>`).
    static func checkVocabulary(_ file: URL, matches tokenizer: CLIPTokenizer) throws {
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw ModelError.missingFile(path: file.path, hint: "the tokenizer's vocab.json beside merges.txt (or give --vocabulary to use a merges file without it)")
        }
        let vocabulary = try HuggingFaceCLIPConfiguration.read([String: Int].self, from: file)
        let renamed = ["<|startoftext|>": "<start_of_text>", "<|endoftext|>": "<end_of_text>"]
        guard vocabulary.count == tokenizer.vocabularySize else {
            throw ModelError.invalidConfiguration(source: file.path, reason: "\(vocabulary.count) tokens, the merges file makes \(tokenizer.vocabularySize)")
        }
        for (token, id) in vocabulary.sorted(by: { $0.value < $1.value }) {
            let ours = renamed[token] ?? token
            guard id >= 0, id < tokenizer.vocabulary.count, tokenizer.vocabulary[id] == ours else {
                let found = id >= 0 && id < tokenizer.vocabulary.count ? tokenizer.vocabulary[id] : "nothing"
                throw ModelError.invalidConfiguration(source: file.path, reason: "token \(token) has id \(id), where the merges file puts \(found)")
            }
        }
    }

    /// The image preprocessing `preprocessor_config.json` states, which must be CLIP's kind:
    /// shortest edge to the model's size, centre crop to it, bicubic or bilinear, ÷255, mean/std.
    static func imagePreprocessing(_ file: URL, imageSize: Int) throws -> ModelPreprocessing.Image {
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw ModelError.missingFile(path: file.path, hint: "the image processor's settings (CLIPImageProcessor's preprocessor_config.json)")
        }
        let p = try HuggingFaceCLIPConfiguration.read(HuggingFaceCLIPConfiguration.ImageProcessor.self, from: file)
        func fail(_ reason: String) -> ModelError { .invalidConfiguration(source: file.path, reason: reason) }
        guard p.doResize, p.doCenterCrop, p.doRescale, p.doNormalize else {
            throw fail("do_resize, do_center_crop, do_rescale and do_normalize must all be true (CLIP's preprocessing)")
        }
        guard p.shortestEdge == imageSize, p.cropHeight == imageSize, p.cropWidth == imageSize else {
            throw fail("size.shortest_edge \(p.shortestEdge.map(String.init) ?? "absent") and crop_size \(p.cropHeight.map(String.init) ?? "?")×\(p.cropWidth.map(String.init) ?? "?") must both be the model's image size \(imageSize)")
        }
        let (interpolation, normalization) = try p.pixelSteps(source: file.path)
        return ModelPreprocessing.Image(size: imageSize, resize: .crop, interpolation: interpolation, normalization: normalization,
                                        pooling: .classToken)
    }
}
