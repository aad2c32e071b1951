import Foundation
import Torch

/// OpenCLIP (`open_clip.model.CLIP`, open_clip 2.32) and OpenAI CLIP state dicts as a swift-vlp
/// dual encoder with a CLIP text transformer.
///
/// Layouts read: a plain state dict (open_clip's released `open_clip_pytorch_model.bin`, or OpenAI
/// CLIP's weights as `model.state_dict()` saves them) and open_clip_train's epoch checkpoint
/// (`{"epoch", "name", "state_dict", "optimizer", "scaler"}` with `module.`-prefixed keys), in
/// fp32 or with the fp16 tensors of `convert_weights_to_lp` (converted to float32 here), and
/// OpenAI's released TorchScript archives (`ViT-B-32.pt`), whose parameters and buffers
/// `TorchScriptArchive` reads through libtorch — the same keys as OpenAI's state dict.
///
/// What open_clip computes, and how it maps:
/// - Image tower (`visual.*`, a ViT): as OpenAI CLIP's, see `OpenAICLIPLayout`.
/// - Text tower: `token_embedding` + `positional_embedding` (the first L rows), pre-LN blocks
///   `transformer.resblocks.N` under a causal mask, `ln_final`, the state at `argmax(ids)` (the
///   end-of-text token, the vocabulary's last id), `@ text_projection` ([W, E], no bias). Ours:
///   `CLIPTextTransformer` under `text.` (Hugging Face CLIP names: `embeddings.token_embedding`,
///   `embeddings.position_embedding`, `encoder.layers.N.*`, `final_layer_norm`) and
///   `text_projection.weight` = `text_projection` transposed ([E, W]).
/// - `logit_scale` (log 1/τ) becomes `temperature.logit_scale`.
///
/// Sizes come from the shapes, as OpenAI CLIP's `build_model` reads them: the ViT's as
/// `OpenAICLIPLayout.visionShapes`; the text tower's vocabulary and width from `token_embedding`,
/// context length from `positional_embedding`, depth from the block indices, MLP width from
/// `c_fc`, embed dim from `text_projection`. Head counts are not in the shapes: OpenAI's
/// convention, width / 64 for both towers (as every open_clip ViT config has it), or
/// `ImportOptions.configuration`, checked against the shapes. The activation is not in the
/// weights either: `ImportOptions.activation`, the configuration's, or GELU (open_clip's named
/// configs; OpenAI's own weights need QuickGELU, which `ImportFamily.importModel` assumes for a
/// TorchScript archive).
///
/// Deliberately ignored: `attn_mask` (the causal mask buffer, which open_clip ≥ 2 no longer
/// saves), OpenAI's `input_resolution`, `context_length` and `vocab_size` entries, and an epoch
/// checkpoint's `optimizer.*` and `scaler.*`. A ModifiedResNet image tower (OpenAI's RN50 family)
/// imports as a `resnet` tower (`OpenAICLIPLayout.resNetShapes`). Any other key is an error: a timm
/// image tower, layer scale (`ls_1`, `ls_2`), an attentional pooler or a SigLIP `logit_bias`.
public enum OpenCLIPImport {
    /// Keys every open_clip CLIP checkpoint with a ViT has, by which `ImportFamily` detects it.
    static let markerKeys: Set<String> = ["visual.conv1.weight", "token_embedding.weight", "ln_final.weight", "text_projection"]
    /// OpenAI CLIP's head width in both towers (`build_model`: heads = width // 64).
    public static let headWidth = 64
    /// What open_clip's named configs use unless they say "-quickgelu".
    public static let defaultActivation = TransformerMLP.ActivationKind.gelu
    /// Constant entries a state dict may hold beside the weights.
    static let constantKeys: Set<String> = ["attn_mask", "input_resolution", "context_length", "vocab_size"]

    /// The sizes read from a checkpoint's shapes.
    struct Shapes {
        var vision = OpenAICLIPLayout.ImageShapes.vit(.init())
        var vocabularySize = 0, textWidth = 0, contextLength = 0, textLayers = 0, textMLPWidth = 0
    }

    static func convert(_ tensors: [String: Tensor], source: String, options: ImportOptions) throws -> ImportedModel {
        let (stateDict, wrapped) = try WrappedStateDict.unwrap(tensors, source: source, besides: ["optimizer.", "scaler."],
                                                               layout: "an open_clip epoch checkpoint holds epoch, name, state_dict, optimizer and scaler")
        var ledger = SourceTensors(stateDict, source: source)
        if let key = ledger.keys.first(where: { $0.hasPrefix("visual.trunk.") }) {
            throw ledger.fail("\(key): a timm image tower, which swift-vlp cannot import (open_clip ViT towers only)")
        }
        let shapes = try readShapes(ledger)
        let configuration = try makeConfiguration(shapes, options: options, source: source)
        let weights = try mapWeights(&ledger, shapes)
        ledger.ignore { constantKeys.contains($0) || (wrapped && ($0.hasPrefix("optimizer.") || $0.hasPrefix("scaler."))) }
        try ledger.finish()

        let vocabulary = options.vocabulary ?? TokenizerKind.clip.locatedDefaultFile
        guard FileManager.default.fileExists(atPath: vocabulary.path) else {
            throw ModelError.missingFile(path: vocabulary.path, hint: "CLIP's BPE merges (bpe_simple_vocab_16e6.txt.gz, from open_clip_torch; `make assets` fetches it) or give --vocabulary")
        }
        let preprocessing = ModelPreprocessing(
            text: .init(tokenizer: .clip, vocabulary: ModelBundle.tokenizerFolder + "/" + TokenizerKind.clip.bundleFileName,
                        contextLength: options.contextLength ?? shapes.contextLength, pooling: .endOfText),
            image: .init(size: shapes.vision.imageSize, resize: .crop, interpolation: .bicubic, normalization: .clip,
                         pooling: configuration.vision.pooling))
        let imported = ImportedModel(family: .openCLIP, source: source, configuration: configuration, weights: weights,
                                     preprocessing: preprocessing, vocabulary: vocabulary, ignoredKeys: ledger.ignored,
                                     convertedTensors: ledger.convertedCount)
        _ = try imported.makeModel()  // the weights fit the model they describe, strictly
        return imported
    }

    static func readShapes(_ ledger: SourceTensors) throws -> Shapes {
        var s = Shapes()
        s.vision = try OpenAICLIPLayout.ImageShapes.read(ledger)
        let tokens = try ledger.shape(of: "token_embedding.weight", rank: 2)
        (s.vocabularySize, s.textWidth) = (tokens[0], tokens[1])
        s.contextLength = try ledger.shape(of: "positional_embedding", rank: 2)[0]
        s.textLayers = try ledger.blockCount(prefix: "transformer.resblocks.")
        s.textMLPWidth = s.textLayers > 0 ? try ledger.shape(of: "transformer.resblocks.0.mlp.c_fc.weight", rank: 2)[0] : 4 * s.textWidth
        return s
    }

    /// The dual encoder the shapes describe: head counts and activation from
    /// `options.configuration` (checked against the shapes) or by convention, the activation
    /// overridden by `options.activation`.
    static func makeConfiguration(_ s: Shapes, options: ImportOptions, source: String) throws -> VLPModelConfiguration {
        let visionHeads: Int, textHeads: Int
        var activation = options.activation ?? defaultActivation
        if let given = options.configuration {
            let read = try settings(from: given, matching: s, source: options.configurationSource)
            (visionHeads, textHeads) = (read.visionHeads, read.textHeads)
            if let chosen = options.activation, chosen != read.activation {
                throw ModelError.invalidConfiguration(source: options.configurationSource, reason: "its activation is \(read.activation.rawValue), --activation says \(chosen.rawValue)")
            }
            activation = read.activation
        } else {
            func conventionalHeads(_ name: String, _ width: Int) throws -> Int {
                guard width % headWidth == 0 else {
                    throw ModelError.invalidCheckpoint(source: source, reason: "\(name) \(width) is not a multiple of CLIP's head width \(headWidth); give the head counts with --config")
                }
                return width / headWidth
            }
            switch s.vision {
            case .vit(let vit): visionHeads = try conventionalHeads("vision width", vit.width)
            case .resNet(let resNet): visionHeads = resNet.conventionalHeads
            }
            textHeads = try conventionalHeads("text width", s.textWidth)
        }
        let text = CLIPTextConfiguration(vocabularySize: s.vocabularySize, width: s.textWidth, layers: s.textLayers, heads: textHeads,
                                         contextLength: s.contextLength, mlpWidth: s.textMLPWidth, layerNormEps: 1e-5, activation: activation)
        let vision = OpenAICLIPLayout.towerConfiguration(s.vision, heads: visionHeads, activation: activation.rawValue)
        let configuration = VLPModelConfiguration(architecture: .dualEncoder, embedDim: s.vision.embedDim, text: .clip(text), vision: vision)
        try configuration.validate(source: "\(source) (sizes read from its tensors)")
        return configuration
    }

    /// The head counts and activation of a given configuration, after checking every size it
    /// states against the checkpoint's and that it computes what open_clip does.
    static func settings(from given: VLPModelConfiguration, matching s: Shapes,
                         source: String) throws -> (visionHeads: Int, textHeads: Int, activation: TransformerMLP.ActivationKind) {
        guard given.architecture == .dualEncoder, let t = given.text.clip,
              let vision = OpenAICLIPLayout.compare(given.vision, with: s.vision, activation: t.activation.rawValue) else {
            throw ModelError.invalidConfiguration(source: source, reason: "this OpenCLIP checkpoint is a dual_encoder with a \(s.vision.kind.rawValue) image tower and a clip text tower; the configuration is \(given.architecture.rawValue) with a \(given.vision.kind.rawValue) image tower and a \(given.text.kind.rawValue) text tower")
        }
        let pairs: [(String, String, String)] = [("embed_dim", "\(given.embedDim)", "\(s.vision.embedDim)")] + vision.fields + [
            ("text.vocab_size", "\(t.vocabularySize)", "\(s.vocabularySize)"), ("text.width", "\(t.width)", "\(s.textWidth)"),
            ("text.layers", "\(t.layers)", "\(s.textLayers)"), ("text.context_length", "\(t.contextLength)", "\(s.contextLength)"),
            ("text.mlp_width", "\(t.mlpWidth)", "\(s.textMLPWidth)"),
        ]
        let mismatches = pairs.filter { $0.1 != $0.2 }.map { "\($0.0) is \($0.1), the checkpoint's \($0.2)" }
        guard mismatches.isEmpty else {
            throw ModelError.invalidConfiguration(source: source, reason: "does not describe this OpenCLIP checkpoint: " + mismatches.joined(separator: "; ")
                                                  + (s.vision.kind == .vit ? " (vision.activation must equal text.activation: open_clip uses one for both towers)" : ""))
        }
        return (vision.heads, t.heads, t.activation)
    }

    /// Every tensor of the model under our keys, taken from `ledger` with its shape checked.
    static func mapWeights(_ ledger: inout SourceTensors, _ s: Shapes) throws -> [String: Tensor] {
        var weights: [String: Tensor] = [:]
        try s.vision.map(&ledger, into: &weights)
        let w = s.textWidth
        weights["text.embeddings.token_embedding.weight"] = try ledger.take("token_embedding.weight", shape: [s.vocabularySize, w])
        weights["text.embeddings.position_embedding.weight"] = try ledger.take("positional_embedding", shape: [s.contextLength, w])
        try OpenAICLIPLayout.mapBlocks(&ledger, from: "transformer.resblocks.", to: "text.encoder.layers.", count: s.textLayers,
                                       width: w, mlpWidth: s.textMLPWidth, into: &weights)
        try OpenAICLIPLayout.mapLayerNorm(&ledger, "ln_final", "text.final_layer_norm", width: w, into: &weights)
        weights["text_projection.weight"] = try ledger.take("text_projection", shape: [w, s.vision.embedDim]).transposed(0, 1).contiguous()
        weights["temperature.logit_scale"] = try ledger.take("logit_scale", shape: [])
        return weights
    }
}
