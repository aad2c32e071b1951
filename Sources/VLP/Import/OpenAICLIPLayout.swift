import Foundation
import Torch

/// OpenAI CLIP's module layout, which OpenCLIP kept and Chinese-CLIP's image tower copies, read
/// into our Hugging Face-named modules: the ViT or ModifiedResNet under `visual.` and the residual
/// block stacks (`transformer.resblocks.N`) of both towers.
///
/// A block `{ln_1, attn.in_proj_weight/in_proj_bias ([3W, W], rows q, k, v), attn.out_proj, ln_2,
/// mlp.c_fc, mlp.c_proj}` becomes `{layer_norm1, self_attn.{q,k,v}_proj (the packed rows split),
/// self_attn.out_proj, layer_norm2, mlp.fc1, mlp.fc2}`. The ViT's `conv1` (no bias) becomes the
/// patch embedding, `class_embedding` and `positional_embedding` the embeddings', `ln_pre` /
/// `ln_post` the pre and post norms, and `proj` ([W, E], right-multiplied) the dual encoder's
/// `visual_projection.weight` transposed ([E, W]).
enum OpenAICLIPLayout {
    /// The ViT's sizes, read from its shapes as OpenAI CLIP's `build_model` does.
    struct VisionShapes {
        var width = 0, patchSize = 0, grid = 0, layers = 0, mlpWidth = 0, embedDim = 0
        var imageSize: Int { grid * patchSize }
    }

    /// Sizes of the ViT under `visual.`: width and patch from `conv1`, resolution from the
    /// position count (1 + a square grid), depth from the block indices, embed dim from `proj`.
    static func visionShapes(_ ledger: SourceTensors) throws -> VisionShapes {
        var s = VisionShapes()
        let conv = try ledger.shape(of: "visual.conv1.weight", rank: 4)
        guard conv[1] == 3, conv[2] == conv[3], conv[2] > 0 else {
            throw ledger.fail("visual.conv1.weight has shape \(conv), expected [width, 3, patch, patch]")
        }
        (s.width, s.patchSize) = (conv[0], conv[2])
        s.grid = try ledger.patchGridSide(positionTable: "visual.positional_embedding")
        s.embedDim = try ledger.shape(of: "visual.proj", rank: 2)[1]
        s.layers = try ledger.blockCount(prefix: "visual.transformer.resblocks.")
        s.mlpWidth = s.layers > 0 ? try ledger.shape(of: "visual.transformer.resblocks.0.mlp.c_fc.weight", rank: 2)[0] : 4 * s.width
        return s
    }

    /// Takes the ViT's tensors from `ledger` into `weights` under our keys (`vision.*`,
    /// `visual_projection.weight`), each shape checked.
    static func mapVisionTower(_ ledger: inout SourceTensors, _ s: VisionShapes, into weights: inout [String: Tensor]) throws {
        let w = s.width
        weights["vision.embeddings.patch_embedding.weight"] = try ledger.take("visual.conv1.weight", shape: [w, 3, s.patchSize, s.patchSize])
        weights["vision.embeddings.class_embedding"] = try ledger.take("visual.class_embedding", shape: [w])
        weights["vision.embeddings.position_embedding.weight"] = try ledger.take("visual.positional_embedding", shape: [s.grid * s.grid + 1, w])
        try mapLayerNorm(&ledger, "visual.ln_pre", "vision.pre_layrnorm", width: w, into: &weights)
        try mapBlocks(&ledger, from: "visual.transformer.resblocks.", to: "vision.encoder.layers.", count: s.layers, width: w,
                      mlpWidth: s.mlpWidth, into: &weights)
        try mapLayerNorm(&ledger, "visual.ln_post", "vision.post_layernorm", width: w, into: &weights)
        weights["visual_projection.weight"] = try ledger.take("visual.proj", shape: [w, s.embedDim]).transposed(0, 1).contiguous()
    }

    /// The ModifiedResNet's sizes, read from its shapes as OpenAI CLIP's `build_model` does.
    struct ResNetShapes {
        var layers: [Int] = [], width = 0, grid = 0, outputDim = 0
        var imageSize: Int { grid * 32 }
        /// OpenAI's and cn_clip's convention: the attention pool's width 32 · width over heads 64 wide.
        var conventionalHeads: Int { width * 32 / 64 }
    }

    /// The image tower's sizes: a ViT's or a ModifiedResNet's (`visual.layer1.*`).
    enum ImageShapes {
        case vit(VisionShapes)
        case resNet(ResNetShapes)

        static func read(_ ledger: SourceTensors) throws -> ImageShapes {
            ledger.contains("visual.layer1.0.conv1.weight") ? .resNet(try resNetShapes(ledger)) : .vit(try visionShapes(ledger))
        }

        var imageSize: Int {
            switch self {
            case .vit(let s): return s.imageSize
            case .resNet(let s): return s.imageSize
            }
        }

        var kind: ImageTowerConfiguration.Kind {
            switch self {
            case .vit: return .vit
            case .resNet: return .resNet
            }
        }

        /// The dual encoder's embed dim: the ViT's `proj` columns, the attention pool's output.
        var embedDim: Int {
            switch self {
            case .vit(let s): return s.embedDim
            case .resNet(let s): return s.outputDim
            }
        }

        /// Takes the tower's tensors into `weights` (`vision.*`, `visual_projection.weight`).
        func map(_ ledger: inout SourceTensors, into weights: inout [String: Tensor]) throws {
            switch self {
            case .vit(let s): try mapVisionTower(&ledger, s, into: &weights)
            case .resNet(let s): try mapResNetTower(&ledger, s, into: &weights)
            }
        }
    }

    /// Sizes of the ModifiedResNet under `visual.`: width from `layer1.0.conv1`, the stages'
    /// depths from their block indices, resolution from the attention pool's position count
    /// (1 + a square grid, 32 pixels a cell), embed dim from its `c_proj`.
    static func resNetShapes(_ ledger: SourceTensors) throws -> ResNetShapes {
        var s = ResNetShapes()
        s.width = try ledger.shape(of: "visual.layer1.0.conv1.weight", rank: 4)[0]
        s.layers = try (1...4).map { try ledger.blockCount(prefix: "visual.layer\($0).") }
        let positions = try ledger.shape(of: "visual.attnpool.positional_embedding", rank: 2)
        let cells = positions[0] - 1
        s.grid = Int(Double(max(cells, 0)).squareRoot().rounded())
        guard cells > 0, s.grid * s.grid == cells else {
            throw ledger.fail("visual.attnpool.positional_embedding has \(positions[0]) rows, expected 1 + a square number of cells")
        }
        guard positions[1] == s.width * 32 else {
            throw ledger.fail("visual.attnpool.positional_embedding is \(positions[1]) wide, expected 32 × the stem width \(s.width) = \(s.width * 32)")
        }
        s.outputDim = try ledger.shape(of: "visual.attnpool.c_proj.weight", rank: 2)[0]
        return s
    }

    /// Takes the ModifiedResNet's tensors under `visual.` into `vision.*` — our module keeps
    /// OpenAI's names, so every key maps to itself — and sets `visual_projection` to the identity:
    /// CLIP's ResNet has no projection after its attention pool (whose `c_proj` is one).
    /// A `num_batches_tracked` the save left out stays 0 (evaluation does not read it).
    static func mapResNetTower(_ ledger: inout SourceTensors, _ s: ResNetShapes, into weights: inout [String: Tensor]) throws {
        let tower = try ModifiedResNet(ModifiedResNetConfiguration(imageSize: s.imageSize, layers: s.layers, width: s.width,
                                                                   heads: s.conventionalHeads, outputDim: s.outputDim))
        for entry in tower.stateDict() {
            let from = "visual." + entry.name, to = "vision." + entry.name
            if entry.name.hasSuffix(".num_batches_tracked") {
                weights[to] = try ledger.takeCounter(from) ?? entry.tensor
            } else {
                weights[to] = try ledger.take(from, shape: entry.tensor.shape)
            }
        }
        let n = s.outputDim
        weights["visual_projection.weight"] = try Tensor((0..<(n * n)).map { $0 % (n + 1) == 0 ? Float(1) : 0 }, shape: [n, n])
    }

    /// The image tower's configuration, with `heads` (the family's convention or the given
    /// configuration's: the ViT's, or the ResNet's attention pool's).
    static func towerConfiguration(_ shapes: ImageShapes, heads: Int, activation: String) -> ImageTowerConfiguration {
        switch shapes {
        case .vit(let s):
            return .vit(VisionTransformerConfiguration(imageSize: s.imageSize, patchSize: s.patchSize, width: s.width, layers: s.layers,
                                                       heads: heads, mlpWidth: s.mlpWidth, projectionDim: 0, layerNormEps: 1e-5,
                                                       activation: activation))
        case .resNet(let s):
            return .resNet(ModifiedResNetConfiguration(imageSize: s.imageSize, layers: s.layers, width: s.width, heads: heads,
                                                       outputDim: s.outputDim))
        }
    }

    /// The image-tower fields of a given configuration against the checkpoint's shapes, as
    /// (field, given, checkpoint's) — all equal when it describes this tower — and its head count;
    /// nil when the configuration's tower is of another kind.
    static func compare(_ given: ImageTowerConfiguration, with shapes: ImageShapes, activation: String) -> (fields: [(String, String, String)], heads: Int)? {
        switch (given, shapes) {
        case (.vit(let vit), .vit(let s)):
            return ([("vision.width", "\(vit.width)", "\(s.width)"), ("vision.patch_size", "\(vit.patchSize)", "\(s.patchSize)"),
                     ("vision.image_size", "\(vit.imageSize)", "\(s.imageSize)"), ("vision.layers", "\(vit.layers)", "\(s.layers)"),
                     ("vision.mlp_width", "\(vit.mlpWidth)", "\(s.mlpWidth)"), ("vision.activation", vit.activation, activation)], vit.heads)
        case (.resNet(let r), .resNet(let s)):
            return ([("vision.width", "\(r.width)", "\(s.width)"), ("vision.layers", "\(r.layers)", "\(s.layers)"),
                     ("vision.image_size", "\(r.imageSize)", "\(s.imageSize)"), ("vision.output_dim", "\(r.outputDim)", "\(s.outputDim)")], r.heads)
        default:
            return nil
        }
    }

    /// Takes `count` residual blocks `from` + N into `to` + N (the layout in the type's comment).
    static func mapBlocks(_ ledger: inout SourceTensors, from: String, to: String, count: Int, width w: Int, mlpWidth: Int,
                          into weights: inout [String: Tensor]) throws {
        for i in 0..<count {
            let from = from + "\(i).", to = to + "\(i)."
            let packedWeight = try ledger.take(from + "attn.in_proj_weight", shape: [3 * w, w])
            let packedBias = try ledger.take(from + "attn.in_proj_bias", shape: [3 * w])
            for (part, name) in ["q", "k", "v"].enumerated() {
                weights[to + "self_attn.\(name)_proj.weight"] = try packedWeight.narrowed(dim: 0, start: part * w, length: w).clone()
                weights[to + "self_attn.\(name)_proj.bias"] = try packedBias.narrowed(dim: 0, start: part * w, length: w).clone()
            }
            try mapLinear(&ledger, from + "attn.out_proj", to + "self_attn.out_proj", input: w, output: w, into: &weights)
            try mapLayerNorm(&ledger, from + "ln_1", to + "layer_norm1", width: w, into: &weights)
            try mapLinear(&ledger, from + "mlp.c_fc", to + "mlp.fc1", input: w, output: mlpWidth, into: &weights)
            try mapLinear(&ledger, from + "mlp.c_proj", to + "mlp.fc2", input: mlpWidth, output: w, into: &weights)
            try mapLayerNorm(&ledger, from + "ln_2", to + "layer_norm2", width: w, into: &weights)
        }
    }

    static func mapLinear(_ ledger: inout SourceTensors, _ from: String, _ to: String, input: Int, output: Int,
                          into weights: inout [String: Tensor]) throws {
        weights[to + ".weight"] = try ledger.take(from + ".weight", shape: [output, input])
        weights[to + ".bias"] = try ledger.take(from + ".bias", shape: [output])
    }

    static func mapLayerNorm(_ ledger: inout SourceTensors, _ from: String, _ to: String, width: Int,
                             into weights: inout [String: Tensor]) throws {
        weights[to + ".weight"] = try ledger.take(from + ".weight", shape: [width])
        weights[to + ".bias"] = try ledger.take(from + ".bias", shape: [width])
    }
}
