import Foundation
import Torch

/// Hugging Face `ChineseCLIPModel` directories (transformers 4.x `save_pretrained`; the OFA-Sys
/// releases on the hub) as a swift-vlp dual encoder with a BERT text tower — what Chinese-CLIP's
/// own checkpoints become through `ChineseCLIPImport`, read from transformers' layout.
///
/// Read from the directory: `config.json` (every size and head count; transformers' defaults for
/// the keys it leaves out), the weights (`model.safetensors`, else `pytorch_model.bin`, else shards: `HuggingFaceWeights`; fp16
/// converted to float32), the tokenizer's `vocab.txt` (copied into the bundle; its size must be the
/// text tower's vocabulary) and `preprocessor_config.json` (`ChineseCLIPImageProcessor`).
///
/// What transformers computes, and how it maps — by prefix, as for `CLIPModel`, since our modules
/// carry Hugging Face's names: `text_model.*` → `text.*` (BERT without a pooler: post-LN, exact
/// GELU, eps 1e-12, absolute positions, token types 0; the feature is the last layer's `[CLS]`
/// state `@ text_projection`), `vision_model.*` → `vision.*` (CLIP's ViT: `pre_layrnorm`, pre-LN
/// blocks, QuickGELU, `post_layernorm` on the class token `@ visual_projection`), the two
/// projections (no bias) as they are, `logit_scale` → `temperature.logit_scale`. Deliberately
/// ignored: the `position_ids` / `token_type_ids` buffers (saved by transformers before 4.31).
///
/// Images: `ChineseCLIPImageProcessor` resizes to `size` = `{"height": H, "width": W}` ignoring the
/// aspect ratio — Chinese-CLIP's squash — with PIL's filter `resample`, then (when
/// `do_center_crop`) crops `crop_size`, a no-op when it equals the size. A bare `"size": N` is read
/// as N×N (cn_clip's squash; transformers 4.39 itself fails on that form); `shortest_edge` or a
/// crop smaller than the size is refused. Texts: cn_clip's context length 52 unless
/// `ImportOptions.contextLength`.
public enum HuggingFaceChineseCLIPImport {
    /// Keys by which `ImportFamily` detects a ChineseCLIPModel weights file given on its own.
    static let markerKeys: Set<String> = ["text_model.embeddings.word_embeddings.weight",
                                          "vision_model.embeddings.patch_embedding.weight", "visual_projection.weight"]
    static let ignoredKeys: Set<String> = ["text_model.embeddings.position_ids", "text_model.embeddings.token_type_ids",
                                           "vision_model.embeddings.position_ids"]

    static func importDirectory(_ folder: URL, options: ImportOptions) throws -> ImportedModel {
        func file(_ name: String) -> URL { folder.appendingPathComponent(name) }
        let configFile = file("config.json")
        let hf = try HuggingFaceCLIPConfiguration.read(HuggingFaceChineseCLIPConfiguration.self, from: configFile)
        guard hf.modelType == "chinese_clip" else {
            throw ModelError.invalidConfiguration(source: configFile.path, reason: "model_type \"\(hf.modelType)\", not a ChineseCLIPModel's \"chinese_clip\"")
        }
        try HuggingFaceCLIPImport.refuseSizeOptions(options)
        let configuration = try makeConfiguration(hf, source: configFile.path)
        let (tensors, weightsFile) = try HuggingFaceWeights.read(in: folder)
        var ledger = SourceTensors(tensors, source: weightsFile.path)
        let weights = try HuggingFaceCLIPImport.mapWeights(&ledger, configuration)
        ledger.ignore { ignoredKeys.contains($0) }
        try ledger.finish()

        let vocabulary = options.vocabulary ?? file("vocab.txt")
        guard FileManager.default.fileExists(atPath: vocabulary.path) else {
            throw ModelError.missingFile(path: vocabulary.path, hint: "the tokenizer's vocab.txt beside the weights, or give --vocabulary")
        }
        let tokenizer = try BertTokenizer.chineseCLIP(vocabularyFile: vocabulary.path)
        guard tokenizer.vocabulary.count == hf.text.vocabularySize else {
            throw ModelError.invalidConfiguration(source: vocabulary.path, reason: "\(tokenizer.vocabulary.count) tokens, the text tower's vocab_size is \(hf.text.vocabularySize)")
        }
        let contextLength = options.contextLength ?? min(ChineseCLIPImport.contextLength, hf.text.maxPositions)
        let preprocessing = ModelPreprocessing(
            text: .init(tokenizer: .bertChinese, vocabulary: ModelBundle.tokenizerFolder + "/" + TokenizerKind.bertChinese.bundleFileName,
                        contextLength: contextLength, pooling: .firstToken),
            image: try imagePreprocessing(file("preprocessor_config.json"), imageSize: hf.vision.imageSize))
        let imported = ImportedModel(family: .huggingFaceChineseCLIP, source: folder.path, configuration: configuration, weights: weights,
                                     preprocessing: preprocessing, vocabulary: vocabulary, ignoredKeys: ledger.ignored,
                                     convertedTensors: ledger.convertedCount)
        _ = try imported.makeModel()  // the weights fit the model they describe, strictly
        return imported
    }

    /// The dual encoder `config.json` describes.
    static func makeConfiguration(_ hf: HuggingFaceChineseCLIPConfiguration, source: String) throws -> VLPModelConfiguration {
        let t = hf.text, v = hf.vision
        guard TransformerMLP.ActivationKind(rawValue: v.hiddenActivation) != nil else {
            throw ModelError.invalidConfiguration(source: source, reason: "vision_config.hidden_act \"\(v.hiddenActivation)\" is not supported (gelu, quick_gelu)")
        }
        let text = BertConfiguration(modelType: "bert", vocabularySize: t.vocabularySize, hiddenSize: t.hiddenSize, layers: t.layers,
                                     heads: t.heads, intermediateSize: t.intermediateSize, hiddenActivation: t.hiddenActivation,
                                     maxPositions: t.maxPositions, typeVocabularySize: t.typeVocabularySize, layerNormEps: t.layerNormEps,
                                     hiddenDropout: 0.1, attentionDropout: 0.1, padTokenID: t.padTokenID,
                                     positionEmbeddingType: t.positionEmbeddingType)
        let vision = VisionTransformerConfiguration(imageSize: v.imageSize, patchSize: v.patchSize, width: v.hiddenSize, layers: v.layers,
                                                    heads: v.heads, mlpWidth: v.intermediateSize, projectionDim: 0, layerNormEps: v.layerNormEps,
                                                    activation: v.hiddenActivation, inputChannels: v.channels)
        let configuration = VLPModelConfiguration(architecture: .dualEncoder, embedDim: hf.projectionDim, text: .bert(text), vision: vision)
        try configuration.validate(source: source)
        return configuration
    }

    /// The image preprocessing `preprocessor_config.json` states, which must be Chinese-CLIP's
    /// kind: a squash to the model's size (a centre crop, if any, of that same size), bicubic or
    /// bilinear, ÷255, mean/std.
    static func imagePreprocessing(_ file: URL, imageSize: Int) throws -> ModelPreprocessing.Image {
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw ModelError.missingFile(path: file.path, hint: "the image processor's settings (ChineseCLIPImageProcessor's preprocessor_config.json)")
        }
        let p = try HuggingFaceCLIPConfiguration.read(HuggingFaceCLIPConfiguration.ImageProcessor.self, from: file)
        func fail(_ reason: String) -> ModelError { .invalidConfiguration(source: file.path, reason: reason) }
        guard p.doResize, p.doRescale, p.doNormalize else {
            throw fail("do_resize, do_rescale and do_normalize must all be true (Chinese-CLIP's preprocessing)")
        }
        switch p.size {
        case .side(imageSize)?, .named(["height": imageSize, "width": imageSize])?: break
        default:
            throw fail("size must be {\"height\": \(imageSize), \"width\": \(imageSize)} (or \(imageSize)): ChineseCLIPImageProcessor squashes to the model's image size, and swift-vlp reads no other resize for it")
        }
        if p.doCenterCrop, p.cropHeight != imageSize || p.cropWidth != imageSize {
            throw fail("crop_size \(p.cropHeight.map(String.init) ?? "?")×\(p.cropWidth.map(String.init) ?? "?") with do_center_crop: after the squash to \(imageSize) only a crop of the same size (none) is read")
        }
        let (interpolation, normalization) = try p.pixelSteps(source: file.path)
        return ModelPreprocessing.Image(size: imageSize, resize: .squash, interpolation: interpolation, normalization: normalization,
                                        pooling: .classToken)
    }
}
