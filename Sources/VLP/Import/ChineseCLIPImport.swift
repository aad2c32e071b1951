import Foundation
import Torch

/// Chinese-CLIP (`cn_clip.clip.model.CLIP`, cn-clip 1.6) checkpoints as a swift-vlp dual encoder.
///
/// Layouts read: the training checkpoint (`{"epoch", "step", "name", "state_dict", "optimizer"}`
/// with `module.`-prefixed keys from DistributedDataParallel) and a plain state dict, in fp32 or
/// with the fp16 tensors of cn_clip's `convert_weights` (converted to float32 here).
///
/// What cn_clip computes, and how it maps:
/// - Image tower (`visual.*`, OpenAI CLIP's `VisualTransformer`): patch convolution without bias,
///   class token and learned positions, `ln_pre`, pre-LN blocks (`x + attn(ln_1(x))`,
///   `x + mlp(ln_2(x))`, QuickGELU between `c_fc` and `c_proj`, layer-norm eps 1e-5, attention
///   scaled by 1/√head width), `ln_post` on the class token, then `@ proj`. Our `VisionTransformer`
///   computes the same with Hugging Face CLIP's names: `in_proj_weight`/`in_proj_bias` ([3W, W],
///   rows q, k, v) are split into `q_proj`, `k_proj`, `v_proj`; `proj` ([W, E], right-multiplied)
///   becomes `visual_projection.weight` transposed ([E, W]).
/// - Text tower (`bert.*`): a Hugging Face-layout BERT (post-LN, exact erf GELU, eps 1e-12,
///   absolute positions 0…L−1, token types all 0) without a pooler, attention mask = ids ≠ [PAD];
///   the feature is the last layer's `[CLS]` state `@ text_projection` ([H, E] → our
///   `text_projection.weight` [E, H]). The keys are ours already, under `text.`.
/// - `logit_scale` (log 1/τ) becomes `temperature.logit_scale`.
///
/// Sizes come from the tensor shapes (as OpenAI CLIP's `build_model`): vision width and patch
/// from `conv1`, resolution from the position count, depths from the block indices, embed dim
/// from `proj`, the text tower's vocabulary, width, positions, token types and intermediate size
/// from its tables. Head counts are not in the shapes: cn_clip's vision heads are width / 64
/// (width / 80 for ViT-H/14, width 1280, whose config sets `vision_head_width` 80), its BERTs'
/// hidden / 64 (768 → 12, 1024 → 16); `ImportOptions.configuration` overrides both and is
/// checked against the shapes. Deliberately ignored: `bert.pooler.*` (in released checkpoints,
/// never used by cn_clip), `bert.embeddings.position_ids` (a constant buffer), and a training
/// checkpoint's `optimizer.*`. Any other key is an error.
///
/// The RN50 model (a ModifiedResNet image tower with attention pooling, paired with RBT3) imports
/// as a `resnet` tower (`OpenAICLIPLayout.resNetShapes`), its heads 32 · width / 64.
public enum ChineseCLIPImport {
    /// The context length every released Chinese-CLIP model trained with.
    public static let contextLength = 52
    /// Keys every cn_clip ViT checkpoint has (inside its state dict), by which `ImportFamily` detects it.
    static let markerKeys: Set<String> = ["visual.conv1.weight", "bert.embeddings.word_embeddings.weight", "text_projection"]
    /// BERT's head width convention (RoBERTa-wwm-ext base 768 → 12 heads, large 1024 → 16, RBT3 768 → 12).
    public static let textHeadWidth = 64

    /// cn_clip's vision head width for a tower of `width`: 64, except ViT-H/14's 80.
    public static func visionHeadWidth(width: Int) -> Int { width == 1280 ? 80 : 64 }

    /// `key` without a training checkpoint's `state_dict.` and DistributedDataParallel's `module.`.
    static func stateDictKey(_ key: String) -> String { WrappedStateDict.stateDictKey(key) }

    /// The sizes read from a checkpoint's shapes.
    struct Shapes {
        var vision = OpenAICLIPLayout.ImageShapes.vit(.init())
        var text = BertShapes()
        var embedDim: Int { vision.embedDim }
        var imageSize: Int { vision.imageSize }
    }

    static func convert(_ tensors: [String: Tensor], source: String, options: ImportOptions) throws -> ImportedModel {
        let (stateDict, wrapped) = try unwrap(tensors, source: source)
        var ledger = SourceTensors(stateDict, source: source)
        let shapes = try readShapes(ledger)
        let configuration = try makeConfiguration(shapes, options: options, source: source)
        let weights = try mapWeights(&ledger, shapes)
        ledger.ignore { $0.hasPrefix("bert.pooler.") || $0 == "bert.embeddings.position_ids" || (wrapped && $0.hasPrefix("optimizer.")) }
        try ledger.finish()

        let vocabulary = options.vocabulary ?? TokenizerKind.bertChinese.locatedDefaultFile
        guard FileManager.default.fileExists(atPath: vocabulary.path) else {
            throw ModelError.missingFile(path: vocabulary.path, hint: "Chinese-CLIP's vocabulary (vocab.txt, 21,128 tokens; `make assets` fetches it) or give --vocabulary")
        }
        let preprocessing = ModelPreprocessing(
            text: .init(tokenizer: .bertChinese, vocabulary: ModelBundle.tokenizerFolder + "/" + TokenizerKind.bertChinese.bundleFileName,
                        contextLength: options.contextLength ?? contextLength, pooling: .firstToken),
            image: .init(size: shapes.imageSize, resize: .squash, interpolation: .bicubic, normalization: .clip,
                         pooling: configuration.vision.pooling))
        let imported = ImportedModel(family: .chineseCLIP, source: source, configuration: configuration, weights: weights,
                                     preprocessing: preprocessing, vocabulary: vocabulary, ignoredKeys: ledger.ignored,
                                     convertedTensors: ledger.convertedCount)
        _ = try imported.makeModel()  // the weights fit the model they describe, strictly
        return imported
    }

    /// The state dict inside a training checkpoint (its `optimizer.*` kept to be ignored) or a
    /// plain one, with `module.` removed; whether it was wrapped.
    static func unwrap(_ tensors: [String: Tensor], source: String) throws -> ([String: Tensor], wrapped: Bool) {
        try WrappedStateDict.unwrap(tensors, source: source, besides: ["optimizer."],
                                    layout: "a cn_clip training checkpoint holds epoch, step, name, state_dict and optimizer")
    }

    static func readShapes(_ ledger: SourceTensors) throws -> Shapes {
        var s = Shapes()
        s.vision = try OpenAICLIPLayout.ImageShapes.read(ledger)
        s.text = try BertShapes.read(ledger, prefix: "bert.")
        return s
    }

    /// The dual encoder the shapes describe, with cn_clip's fixed choices (QuickGELU vision MLP,
    /// exact-GELU BERT, its layer-norm eps and dropouts) and head counts by convention or from
    /// `options.configuration`, which must agree with the shapes.
    static func makeConfiguration(_ s: Shapes, options: ImportOptions, source: String) throws -> VLPModelConfiguration {
        if let activation = options.activation, activation != .quickGELU {
            throw ModelError.invalidConfiguration(source: "--activation", reason: "Chinese-CLIP's image tower uses quick_gelu, not \(activation.rawValue)")
        }
        var visionHeads: Int, textHeads: Int
        if let given = options.configuration {
            (visionHeads, textHeads) = try headCounts(from: given, matching: s, source: options.configurationSource)
        } else {
            switch s.vision {
            case .vit(let vit):
                let headWidth = visionHeadWidth(width: vit.width)
                guard vit.width % headWidth == 0 else {
                    throw ModelError.invalidCheckpoint(source: source, reason: "vision width \(vit.width) is not a multiple of cn_clip's head width \(headWidth); give the head counts with --config")
                }
                visionHeads = vit.width / headWidth
            case .resNet(let resNet):
                visionHeads = resNet.conventionalHeads
            }
            guard s.text.hidden % textHeadWidth == 0 else {
                throw ModelError.invalidCheckpoint(source: source, reason: "text hidden size \(s.text.hidden) is not a multiple of BERT's head width \(textHeadWidth); give the head counts with --config")
            }
            textHeads = s.text.hidden / textHeadWidth
        }
        let text = s.text.configuration(heads: textHeads)
        let vision = OpenAICLIPLayout.towerConfiguration(s.vision, heads: visionHeads, activation: "quick_gelu")
        let configuration = VLPModelConfiguration(architecture: .dualEncoder, embedDim: s.embedDim, text: .bert(text), vision: vision)
        try configuration.validate(source: "\(source) (sizes read from its tensors)")
        return configuration
    }

    /// The head counts of a given configuration, after checking every size it states against the
    /// checkpoint's and that it computes what cn_clip does.
    static func headCounts(from given: VLPModelConfiguration, matching s: Shapes, source: String) throws -> (vision: Int, text: Int) {
        guard given.architecture == .dualEncoder, let vision = OpenAICLIPLayout.compare(given.vision, with: s.vision, activation: "quick_gelu"),
              let t = given.text.bert else {
            throw ModelError.invalidConfiguration(source: source, reason: "this Chinese-CLIP checkpoint is a dual_encoder with a \(s.vision.kind.rawValue) image tower and a BERT text tower; the configuration is \(given.architecture.rawValue) with a \(given.vision.kind.rawValue) image tower and a \(given.text.kind.rawValue) text tower")
        }
        let pairs: [(String, String, String)] = [("embed_dim", "\(given.embedDim)", "\(s.embedDim)")] + vision.fields + [
            ("text.model_type", t.modelType, "bert"), ("text.vocab_size", "\(t.vocabularySize)", "\(s.text.vocabularySize)"),
            ("text.hidden_size", "\(t.hiddenSize)", "\(s.text.hidden)"), ("text.num_hidden_layers", "\(t.layers)", "\(s.text.layers)"),
            ("text.intermediate_size", "\(t.intermediateSize)", "\(s.text.intermediateSize)"),
            ("text.max_position_embeddings", "\(t.maxPositions)", "\(s.text.maxPositions)"),
            ("text.type_vocab_size", "\(t.typeVocabularySize)", "\(s.text.typeVocabularySize)"), ("text.hidden_act", t.hiddenActivation, "gelu"),
        ]
        let mismatches = pairs.filter { $0.1 != $0.2 }.map { "\($0.0) is \($0.1), the checkpoint's \($0.2)" }
        guard mismatches.isEmpty else {
            throw ModelError.invalidConfiguration(source: source, reason: "does not describe this Chinese-CLIP checkpoint: " + mismatches.joined(separator: "; "))
        }
        return (vision.heads, t.heads)
    }

    /// Every tensor of the model under our keys, taken from `ledger` with its shape checked.
    static func mapWeights(_ ledger: inout SourceTensors, _ s: Shapes) throws -> [String: Tensor] {
        var weights: [String: Tensor] = [:]
        func copy(_ from: String, _ to: String, _ shape: [Int]) throws { weights[to] = try ledger.take(from, shape: shape) }
        func linear(_ from: String, _ to: String, input: Int, output: Int) throws {
            try copy(from + ".weight", to + ".weight", [output, input])
            try copy(from + ".bias", to + ".bias", [output])
        }
        func layerNorm(_ from: String, _ to: String, _ width: Int) throws {
            try copy(from + ".weight", to + ".weight", [width])
            try copy(from + ".bias", to + ".bias", [width])
        }
        func transposed(_ from: String, _ to: String, _ shape: [Int]) throws {
            weights[to] = try ledger.take(from, shape: shape).transposed(0, 1).contiguous()
        }

        try s.vision.map(&ledger, into: &weights)

        // Text tower: the same Hugging Face BERT layout.
        let h = s.text.hidden
        try copy("bert.embeddings.word_embeddings.weight", "text.embeddings.word_embeddings.weight", [s.text.vocabularySize, h])
        try copy("bert.embeddings.position_embeddings.weight", "text.embeddings.position_embeddings.weight", [s.text.maxPositions, h])
        try copy("bert.embeddings.token_type_embeddings.weight", "text.embeddings.token_type_embeddings.weight", [s.text.typeVocabularySize, h])
        try layerNorm("bert.embeddings.LayerNorm", "text.embeddings.LayerNorm", h)
        for i in 0..<s.text.layers {
            let from = "bert.encoder.layer.\(i).", to = "text.encoder.layer.\(i)."
            for name in ["query", "key", "value"] {
                try linear(from + "attention.self.\(name)", to + "attention.self.\(name)", input: h, output: h)
            }
            try linear(from + "attention.output.dense", to + "attention.output.dense", input: h, output: h)
            try layerNorm(from + "attention.output.LayerNorm", to + "attention.output.LayerNorm", h)
            try linear(from + "intermediate.dense", to + "intermediate.dense", input: h, output: s.text.intermediateSize)
            try linear(from + "output.dense", to + "output.dense", input: s.text.intermediateSize, output: h)
            try layerNorm(from + "output.LayerNorm", to + "output.LayerNorm", h)
        }
        try transposed("text_projection", "text_projection.weight", [h, s.embedDim])
        try copy("logit_scale", "temperature.logit_scale", [])
        return weights
    }
}
