import Foundation
import Torch

/// R2D2's released checkpoints (yuxie11/R2D2: the pretrained `r2d2_pretrain_250m.pth` / 23M and the
/// retrieval fine-tunes, `{"model": state_dict, "optimizer", "config", "epoch"}`) as a swift-vlp
/// R2D2: the dual encoder for pre-ranking and both cross encoders with their match heads for
/// ranking.
///
/// What R2D2's code (`models/r2d2.py`, `r2d2_retrieval.py`, BLIP-style `models/bert.py`) computes,
/// and how it maps:
/// - `visual_encoder.*`: Hugging Face's CLIP vision transformer (QuickGELU, eps 1e-5) → our ViT
///   under `towers.vision.*`, same names. R2D2 takes `last_hidden_state` — before
///   `post_layernorm`, which it never uses (ignored) — so the tower is built without one
///   (`post_layernorm: false`) and pools the class token as the last block leaves it.
/// - `text_encoder.*`: a transformers BERT (post-LN, erf GELU, eps 1e-12) → `towers.text.*`; its
///   pooler is never used (ignored); the feature is the `[CLS]` state.
/// - `vision_proj` / `text_proj` (with biases) → the projections (`projection_bias: true`);
///   `temp` (τ itself) → `temperature.logit_scale` = log(1/τ).
/// - `text_joint_layer` / `img_joint_layer`: BERTs with cross-attention in every layer, called
///   with `encoder_embeds` (their embedding tables are never used: ignored). A layer is
///   `attention.{self.{query,key,value}, output.{dense,LayerNorm}}` (self-attention, post-LN),
///   `crossattention.*` alike (its key / value read the other tower's states at their own width:
///   1024 for ViT-L), `intermediate.dense`, `output.{dense,LayerNorm}` → our cross encoder's
///   `self_attn.{q,k,v,out}_proj`, `self_attn_layer_norm`, `cross_attn.*`, `cross_attn_layer_norm`,
///   `mlp.fc1/fc2`, `final_layer_norm`, with the context read directly (`context_map: direct`).
///   Text attends image: queries are the text states as they are (`query_map: direct`). Image
///   attends text: the queries pass through `img_joint_proj` (→ `image_cross.query_map`).
/// - `itm_head` / `itm_head_i` (class 1 = match) → `text_match_head` / `image_match_head`.
///   Two-stage retrieval scores a candidate by cosine + the heads' mean match probability, as
///   R2D2's `compute_cross_score` does (re-ranking weight 1).
///
/// Sizes come from the shapes (vision width, patch and resolution from the patch convolution and
/// position table, depths from the block indices, BERT sizes from its tables, cross-encoder depths
/// and widths from their projections). Head counts are not in the shapes: R2D2's towers and cross
/// encoders all use heads 64 wide (ViT-L/14 16, BERT-base 12), unless `ImportOptions.configuration`
/// gives an R2D2 configuration, which must then describe the checkpoint exactly.
///
/// Inputs: Chinese BERT word pieces over RoBERTa-wwm-ext's vocabulary (the bundled `bert-zh` one;
/// R2D2 ships the same file), context 64 (`tokenize_text`); images squashed to the square with
/// bicubic resampling and CLIP's mean / std (`r2d2_inference_demo.py`).
///
/// The retrieval checkpoints carry no masked-language head, which swift-vlp's R2D2 has for
/// Enhanced Training: it is initialised fresh, and `import.json` lists its keys as initialised.
public enum R2D2Import {
    /// R2D2's text length (`tokenize_text`'s `max_length`).
    public static let contextLength = 64
    /// The head width of every attention in R2D2 (ViT-L/14: 1024 / 16; BERT-base: 768 / 12).
    public static let headWidth = 64
    /// Keys every R2D2 checkpoint has (inside `model`), by which `ImportFamily` detects it.
    static let markerKeys: Set<String> = ["visual_encoder.embeddings.patch_embedding.weight", "text_encoder.embeddings.word_embeddings.weight",
                                          "text_joint_layer.encoder.layer.0.crossattention.self.key.weight", "itm_head_i.weight"]

    /// `key` without the training checkpoint's `model.` (and a `module.`, as `unwrap` drops it).
    static func stateDictKey(_ key: String) -> String { WrappedStateDict.stateDictKey(key, container: "model.") }

    /// The sizes read from a checkpoint's shapes.
    struct Shapes {
        var imageSize = 0, patchSize = 0, visionWidth = 0, visionLayers = 0, visionMLP = 0, channels = 0
        var text = BertShapes()
        var embedDim = 0
        var textCross = Cross(), imageCross = Cross()

        struct Cross { var layers = 0, width = 0, mlpWidth = 0, contextWidth = 0, queryWidth = 0 }
    }

    static func convert(_ tensors: [String: Tensor], source: String, options: ImportOptions) throws -> ImportedModel {
        let (stateDict, wrapped) = try WrappedStateDict.unwrap(tensors, source: source, container: "model.", besides: ["optimizer."],
                                                               layout: "an R2D2 checkpoint holds model, optimizer, config and epoch")
        var ledger = SourceTensors(stateDict, source: source)
        let shapes = try readShapes(ledger)
        let configuration = try makeConfiguration(shapes, options: options, source: source)
        let (weights, initialized) = try mapWeights(&ledger, configuration)
        ledger.ignore { key in
            key.hasPrefix("visual_encoder.post_layernorm.") || key.hasPrefix("text_encoder.pooler.") || key.hasSuffix("embeddings.position_ids")
                || key.hasPrefix("text_joint_layer.embeddings.") || key.hasPrefix("img_joint_layer.embeddings.")
                || (wrapped && key.hasPrefix("optimizer."))
        }
        try ledger.finish()

        let vocabulary = options.vocabulary ?? TokenizerKind.bertChinese.locatedDefaultFile
        guard FileManager.default.fileExists(atPath: vocabulary.path) else {
            throw ModelError.missingFile(path: vocabulary.path, hint: "R2D2's vocabulary (RoBERTa-wwm-ext's vocab.txt, 21,128 tokens, the file `make assets` fetches for cn-clip) or give --vocabulary")
        }
        let contextLength = options.contextLength ?? min(contextLength, shapes.text.maxPositions)
        let preprocessing = ModelPreprocessing(
            text: .init(tokenizer: .bertChinese, vocabulary: ModelBundle.tokenizerFolder + "/" + TokenizerKind.bertChinese.bundleFileName,
                        contextLength: contextLength, pooling: .firstToken),
            image: .init(size: shapes.imageSize, resize: .squash, interpolation: .bicubic, normalization: .clip,
                         pooling: configuration.vision.pooling),
            rerankWeight: 1)
        let imported = ImportedModel(family: .r2d2, source: source, configuration: configuration, weights: weights,
                                     preprocessing: preprocessing, vocabulary: vocabulary, ignoredKeys: ledger.ignored,
                                     convertedTensors: ledger.convertedCount, initializedKeys: initialized)
        _ = try imported.makeModel()  // the weights fit the model they describe, strictly
        return imported
    }

    static func readShapes(_ ledger: SourceTensors) throws -> Shapes {
        var s = Shapes()
        let conv = try ledger.shape(of: "visual_encoder.embeddings.patch_embedding.weight", rank: 4)
        guard conv[2] == conv[3], conv[2] > 0 else {
            throw ledger.fail("visual_encoder.embeddings.patch_embedding.weight has shape \(conv), expected [width, channels, patch, patch]")
        }
        (s.visionWidth, s.channels, s.patchSize) = (conv[0], conv[1], conv[2])
        s.imageSize = try ledger.patchGridSide(positionTable: "visual_encoder.embeddings.position_embedding.weight") * s.patchSize
        s.visionLayers = try ledger.blockCount(prefix: "visual_encoder.encoder.layers.")
        s.visionMLP = s.visionLayers > 0 ? try ledger.shape(of: "visual_encoder.encoder.layers.0.mlp.fc1.weight", rank: 2)[0] : 4 * s.visionWidth

        s.text = try BertShapes.read(ledger, prefix: "text_encoder.")
        s.embedDim = try ledger.shape(of: "vision_proj.weight", rank: 2)[0]

        func cross(_ prefix: String) throws -> Shapes.Cross {
            var c = Shapes.Cross()
            c.layers = try ledger.blockCount(prefix: prefix + ".encoder.layer.")
            guard c.layers > 0 else { throw ledger.fail("missing key \(prefix).encoder.layer.0.* (a cross encoder without layers)") }
            let layer = prefix + ".encoder.layer.0."
            c.width = try ledger.shape(of: layer + "attention.self.query.weight", rank: 2)[0]
            c.contextWidth = try ledger.shape(of: layer + "crossattention.self.key.weight", rank: 2)[1]
            c.mlpWidth = try ledger.shape(of: layer + "intermediate.dense.weight", rank: 2)[0]
            return c
        }
        s.textCross = try cross("text_joint_layer")
        s.textCross.queryWidth = s.textCross.width
        s.imageCross = try cross("img_joint_layer")
        let projection = try ledger.shape(of: "img_joint_proj.weight", rank: 2)
        s.imageCross.queryWidth = projection[1]
        // The joints read the towers' states: name the tensor whose width disagrees.
        let expectations = [("img_joint_proj.weight", projection, [s.imageCross.width, s.visionWidth]),
                            ("text_joint_layer.encoder.layer.0.crossattention.self.key.weight", [s.textCross.width, s.textCross.contextWidth], [s.textCross.width, s.visionWidth]),
                            ("img_joint_layer.encoder.layer.0.crossattention.self.key.weight", [s.imageCross.width, s.imageCross.contextWidth], [s.imageCross.width, s.text.hidden])]
        for (key, shape, expected) in expectations where shape != expected {
            throw ledger.fail("\(key) has shape \(shape), expected \(expected) (vision width \(s.visionWidth), text width \(s.text.hidden))")
        }
        return s
    }

    /// The R2D2 the shapes describe, with R2D2's fixed choices (QuickGELU ViT without a final
    /// norm on the pooled token, erf-GELU post-LN BERTs, biased projections, direct cross inputs)
    /// and heads 64 wide, or the given configuration's heads once it is checked to describe the
    /// same model.
    static func makeConfiguration(_ s: Shapes, options: ImportOptions, source: String) throws -> VLPModelConfiguration {
        if let activation = options.activation, activation != .quickGELU {
            throw ModelError.invalidConfiguration(source: "--activation", reason: "R2D2's image tower uses quick_gelu, not \(activation.rawValue)")
        }
        let heads: (vision: Int, text: Int, textCross: Int, imageCross: Int)
        if let given = options.configuration {
            guard given.architecture == .r2d2, let vit = given.vision.vit, let bert = given.text.bert,
                  let textCross = given.textCross, let imageCross = given.imageCross else {
                throw ModelError.invalidConfiguration(source: options.configurationSource, reason: "an R2D2 checkpoint needs an r2d2 configuration with a ViT image tower and a BERT text tower, not \(given.architecture.rawValue) with \(given.vision.kind.rawValue) and \(given.text.kind.rawValue)")
            }
            heads = (vit.heads, bert.heads, textCross.heads, imageCross.heads)
        } else {
            func conventional(_ width: Int, _ name: String) throws -> Int {
                guard width % headWidth == 0 else {
                    throw ModelError.invalidCheckpoint(source: source, reason: "\(name) width \(width) is not a multiple of R2D2's head width \(headWidth); give the head counts with --config (an r2d2 configuration)")
                }
                return width / headWidth
            }
            heads = (try conventional(s.visionWidth, "vision"), try conventional(s.text.hidden, "text"),
                     try conventional(s.textCross.width, "text_joint_layer"), try conventional(s.imageCross.width, "img_joint_layer"))
        }
        let text = s.text.configuration(heads: heads.text)
        let vision = VisionTransformerConfiguration(imageSize: s.imageSize, patchSize: s.patchSize, width: s.visionWidth, layers: s.visionLayers,
                                                    heads: heads.vision, mlpWidth: s.visionMLP, projectionDim: 0, layerNormEps: 1e-5,
                                                    activation: "quick_gelu", inputChannels: s.channels, postLayerNorm: false)
        func cross(_ c: Shapes.Cross, heads: Int, queryMap: CrossEncoderConfiguration.InputMap) -> CrossEncoderConfiguration {
            CrossEncoderConfiguration(width: c.width, layers: c.layers, heads: heads, mlpWidth: c.mlpWidth, queryInputWidth: c.queryWidth,
                                      contextInputWidth: c.contextWidth, layerNormEps: 1e-12, dropout: 0.1, normFirst: false,
                                      queryMap: queryMap, contextMap: .direct)
        }
        let configuration = VLPModelConfiguration(architecture: .r2d2, embedDim: s.embedDim, text: .bert(text), vision: .vit(vision),
                                                  textCross: cross(s.textCross, heads: heads.textCross, queryMap: .direct),
                                                  imageCross: cross(s.imageCross, heads: heads.imageCross, queryMap: .linear),
                                                  projectionBias: true)
        try configuration.validate(source: "\(source) (sizes read from its tensors)")
        if let given = options.configuration {
            let differences = try ConfigurationDifference.between(given, configuration)
            guard differences.isEmpty else {
                throw ModelError.invalidConfiguration(source: options.configurationSource, reason: "does not describe this R2D2 checkpoint: " + differences.joined(separator: "; "))
            }
            return given  // the same model, with the given dropouts (a training choice the weights do not fix)
        }
        return configuration
    }

    /// Every tensor of the model `configuration` builds, taken from `ledger` under R2D2's key with
    /// the model's shape; the masked-language head, which R2D2's checkpoints lack, as initialised
    /// (its keys returned).
    static func mapWeights(_ ledger: inout SourceTensors, _ configuration: VLPModelConfiguration) throws -> ([String: Tensor], initialized: [String]) {
        let model = try PretrainingModel(configuration)
        var weights: [String: Tensor] = [:], initialized: [String] = []
        for entry in model.module.stateDict() {
            if entry.name.hasPrefix("mlm_head.") {
                weights[entry.name] = try entry.tensor.detached().clone()
                initialized.append(entry.name)
            } else if entry.name == "towers.temperature.logit_scale" {
                let tau = try ledger.take("temp", shape: [])
                let value = try tau.item()
                guard value.isFinite, value > 0 else { throw ledger.fail("temp is \(value), expected the temperature τ > 0") }
                weights[entry.name] = try (tau.reciprocal()).log()
            } else {
                weights[entry.name] = try ledger.take(sourceKey(of: entry.name), shape: entry.tensor.shape)
            }
        }
        return (weights, initialized.sorted())
    }

    /// R2D2's key of our `key` (the temperature and the masked-language head aside).
    static func sourceKey(of key: String) -> String {
        let prefixes = [("towers.vision.", "visual_encoder."), ("towers.text.", "text_encoder."),
                        ("towers.visual_projection.", "vision_proj."), ("towers.text_projection.", "text_proj."),
                        ("text_match_head.", "itm_head."), ("image_match_head.", "itm_head_i."),
                        ("image_cross.query_map.", "img_joint_proj."),
                        ("text_cross.layers.", "text_joint_layer.encoder.layer."), ("image_cross.layers.", "img_joint_layer.encoder.layer.")]
        guard let (ours, theirs) = prefixes.first(where: { key.hasPrefix($0.0) }) else { return key }
        var rest = String(key.dropFirst(ours.count))
        if ours.hasSuffix(".layers.") { rest = crossLayerKey(rest) }
        return theirs + rest
    }

    /// Inside one cross-encoder layer (`N.module.param`): our names → BLIP's BERT layer names.
    static func crossLayerKey(_ key: String) -> String {
        let renames = [("self_attn.q_proj.", "attention.self.query."), ("self_attn.k_proj.", "attention.self.key."),
                       ("self_attn.v_proj.", "attention.self.value."), ("self_attn.out_proj.", "attention.output.dense."),
                       ("self_attn_layer_norm.", "attention.output.LayerNorm."),
                       ("cross_attn.q_proj.", "crossattention.self.query."), ("cross_attn.k_proj.", "crossattention.self.key."),
                       ("cross_attn.v_proj.", "crossattention.self.value."), ("cross_attn.out_proj.", "crossattention.output.dense."),
                       ("cross_attn_layer_norm.", "crossattention.output.LayerNorm."),
                       ("mlp.fc1.", "intermediate.dense."), ("mlp.fc2.", "output.dense."), ("final_layer_norm.", "output.LayerNorm.")]
        guard let dot = key.firstIndex(of: ".") else { return key }
        let index = key[...dot], inner = String(key[key.index(after: dot)...])
        guard let (ours, theirs) = renames.first(where: { inner.hasPrefix($0.0) }) else { return key }
        return index + theirs + inner.dropFirst(ours.count)
    }
}
