import Foundation
import Torch

/// What the ViT returns.
public struct VisionTransformerOutput {
    /// Token states after the last block, before the final norm [B, 1 + patches, width]
    /// (Hugging Face CLIP's `last_hidden_state`); token 0 is the class token.
    public let hiddenStates: Tensor
    /// `post_layernorm` of the class token [B, width] (the class token's last state when the
    /// configuration has no `post_layernorm`).
    public let pooled: Tensor
    /// `visual_projection(pooled)` [B, projectionDim], when the model has a projection.
    public let projected: Tensor?
}

/// A CLIP-style Vision Transformer (R2D2's image encoder): non-overlapping patches embedded by
/// a strided convolution, a learned class token, learned positions, a layer norm, pre-LN
/// blocks, and the final layer norm on the class token (unless the configuration leaves it out,
/// as R2D2 does), optionally projected.
///
/// Keys are Hugging Face CLIP's vision tower (`embeddings.patch_embedding.weight`,
/// `embeddings.class_embedding`, `embeddings.position_embedding.weight`, `pre_layrnorm`,
/// `encoder.layers.N.{self_attn.{q,k,v,out}_proj, layer_norm1, mlp.fc1, mlp.fc2, layer_norm2}`,
/// `post_layernorm`) plus CLIPModel's `visual_projection`. From a whole CLIPModel checkpoint,
/// select the `vision_model.` keys first (`CheckpointFile.selecting(prefix:from:)`).
public final class VisionTransformer: Module {
    public var embeddings: VisionEmbeddings
    @Child(key: "pre_layrnorm") public var preNorm: LayerNorm
    public var encoder: VisionEncoder
    @Child(key: "post_layernorm") public var postNorm: LayerNorm?
    @Child(key: "visual_projection") public var projection: Linear?
    public let configuration: VisionTransformerConfiguration

    public init(_ configuration: VisionTransformerConfiguration) throws {
        let c = configuration
        try c.validate(source: "VisionTransformer")
        embeddings = try VisionEmbeddings(c)
        _preNorm.wrappedValue = try LayerNorm([c.width], eps: c.layerNormEps)
        encoder = try VisionEncoder(c)
        _postNorm.wrappedValue = c.postLayerNorm ? try LayerNorm([c.width], eps: c.layerNormEps) : nil
        _projection.wrappedValue = c.projectionDim > 0 ? try Linear(c.width, c.projectionDim, bias: false) : nil
        self.configuration = c
        super.init()
    }

    /// - Parameters:
    ///   - images: float [B, C, H, W] with H and W multiples of the patch size.
    ///   - patchMask: boolean [B, patches], true where a patch is hidden from the model (its
    ///     patch embedding is zeroed, so the token carries only its position), as FgD's student
    ///     sees a masked image.
    public func callAsFunction(_ images: Tensor, patchMask: Tensor? = nil) throws -> VisionTransformerOutput {
        let h = try preNorm(embeddings(images, patchMask: patchMask))
        let hidden = try encoder(h)
        let classToken = try hidden.select(dim: 1, index: 0)
        let pooled = try postNorm?(classToken) ?? classToken
        return VisionTransformerOutput(hiddenStates: hidden, pooled: pooled, projected: try projection?(pooled))
    }

    /// One vector per image: the projection when there is one, else the pooled class token;
    /// optionally L2-normalised.
    public func encode(_ images: Tensor, normalized: Bool = false) throws -> Tensor {
        let output = try self(images)
        let vectors = output.projected ?? output.pooled
        return normalized ? try Functional.normalize(vectors, dim: -1) : vectors
    }
}

/// Patch, class and position embeddings (Hugging Face `CLIPVisionEmbeddings`).
public final class VisionEmbeddings: Module {
    @Child(key: "patch_embedding") public var patchEmbedding: Conv2d
    @Parameter(key: "class_embedding") public var classEmbedding: Tensor
    @Child(key: "position_embedding") public var positionEmbedding: Embedding
    public let configuration: VisionTransformerConfiguration

    public init(_ c: VisionTransformerConfiguration) throws {
        _patchEmbedding.wrappedValue = try Conv2d(c.inputChannels, c.width, kernelSize: c.patchSize, stride: c.patchSize, bias: false)
        _classEmbedding.wrappedValue = try Initialization.normal([c.width], std: 1 / Double(c.width).squareRoot())
        _positionEmbedding.wrappedValue = try Embedding(count: c.gridSize * c.gridSize + 1, dimension: c.width)
        configuration = c
        super.init()
        try withNoGrad { try positionEmbedding.weight.copy_(Initialization.normal(positionEmbedding.weight.shape, std: 0.02)) }
    }

    public func callAsFunction(_ images: Tensor, patchMask: Tensor? = nil) throws -> Tensor {
        let c = configuration
        guard images.rank == 4, images.size(1) == c.inputChannels, images.dtype.isFloatingPoint,
              images.size(2) % c.patchSize == 0, images.size(3) % c.patchSize == 0 else {
            throw ModelError.invalidInput(name: "images", reason: "expected float [batch, \(c.inputChannels), H, W] with H and W multiples of \(c.patchSize), got \(images.dtype) \(images.shape)")
        }
        let batch = images.size(0)
        let patches = try patchEmbedding(images)  // [B, W, gh, gw]
        let (gridHeight, gridWidth) = (patches.size(2), patches.size(3))
        var tokens = try patches.flattened(startDim: 2).transposed(1, 2)  // [B, gh·gw, W]
        if let patchMask {
            guard patchMask.shape == [batch, gridHeight * gridWidth] else {
                throw ModelError.invalidInput(name: "patchMask", reason: "expected [\(batch), \(gridHeight * gridWidth)], got \(patchMask.shape)")
            }
            tokens = try tokens * (patchMask .== 0).to(tokens.dtype).unsqueezed(dim: -1)
        }
        let classToken = try classEmbedding.reshaped([1, 1, c.width]).expanded([batch, 1, c.width])
        return try cat([classToken, tokens], dim: 1) + positions(gridHeight: gridHeight, gridWidth: gridWidth)
    }

    /// The position table for a grid of patches: as learned at the native grid, otherwise the
    /// class position kept and the patch positions resampled bicubically (align_corners false),
    /// as OpenCLIP's `resize_pos_embed` and Hugging Face's `interpolate_pos_encoding` do
    /// (without antialiasing, so shrinking the grid differs from OpenCLIP's antialiased variant).
    public func positions(gridHeight: Int, gridWidth: Int) throws -> Tensor {
        let table = positionEmbedding.weight
        let grid = configuration.gridSize, width = configuration.width
        if gridHeight == grid && gridWidth == grid { return table }
        let classPosition = try table.narrowed(dim: 0, start: 0, length: 1)
        let patchPositions = try table.narrowed(dim: 0, start: 1, length: grid * grid)
            .reshaped([1, grid, grid, width]).permuted([0, 3, 1, 2])
        let resized = try Functional.interpolateBicubic(patchPositions, size: (gridHeight, gridWidth))
            .permuted([0, 2, 3, 1]).reshaped([gridHeight * gridWidth, width])
        return try cat([classPosition, resized], dim: 0)
    }
}

/// The block stack, under `layers.N`.
public final class VisionEncoder: Module, ActivationCheckpointing {
    public var layers: [VisionTransformerLayer]
    public var checkpointsActivations = false

    public init(_ c: VisionTransformerConfiguration) throws {
        layers = try (0..<c.layers).map { _ in try VisionTransformerLayer(c) }
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try layers.reduce(x) { h, layer in
            guard checkpointsActivations else { return try layer(h) }
            return try checkpointed([h]) { [try layer($0[0])] }[0]
        }
    }
}

/// A pre-LN block: `x + Attention(LN₁(x))`, then `h + MLP(LN₂(h))` (Hugging Face `CLIPEncoderLayer`).
/// The ViT's blocks attend everywhere; the CLIP text transformer's are the same blocks under a
/// causal mask.
public final class VisionTransformerLayer: Module {
    @Child(key: "self_attn") public var selfAttention: MultiHeadAttention
    @Child(key: "layer_norm1") public var attentionNorm: LayerNorm
    public var mlp: TransformerMLP
    @Child(key: "layer_norm2") public var mlpNorm: LayerNorm
    public let dropout: Dropout

    public convenience init(_ c: VisionTransformerConfiguration) throws {
        try self.init(width: c.width, heads: c.heads, mlpWidth: c.mlpWidth, layerNormEps: c.layerNormEps,
                      activation: c.activation == "quick_gelu" ? .quickGELU : .gelu, dropout: c.dropout)
    }

    public init(width: Int, heads: Int, mlpWidth: Int, layerNormEps: Double, activation: TransformerMLP.ActivationKind,
                dropout: Double) throws {
        _selfAttention.wrappedValue = try MultiHeadAttention(dimension: width, heads: heads, dropout: dropout)
        _attentionNorm.wrappedValue = try LayerNorm([width], eps: layerNormEps)
        mlp = try TransformerMLP(width: width, hidden: mlpWidth, activation: activation)
        _mlpNorm.wrappedValue = try LayerNorm([width], eps: layerNormEps)
        self.dropout = Dropout(dropout)
        super.init()
    }

    /// - Parameter isCausal: each token attends only to itself and earlier tokens.
    public func callAsFunction(_ x: Tensor, isCausal: Bool = false) throws -> Tensor {
        let h = try x + dropout(selfAttention(attentionNorm(x), isCausal: isCausal))
        return try h + dropout(mlp(mlpNorm(h)))
    }
}

extension VisionTransformer: ImageTower {
    public var width: Int { configuration.width }
    public var imageSize: Int { configuration.imageSize }

    public func patchGrid(height: Int, width: Int) -> (rows: Int, columns: Int) {
        (height / configuration.patchSize, width / configuration.patchSize)
    }

    /// `pooled` is the normalised class token, `states` the last block's tokens before the final norm.
    public func encode(_ images: Tensor, patchMask: Tensor?) throws -> ImageTowerOutput {
        let output = try self(images, patchMask: patchMask)
        return ImageTowerOutput(pooled: output.pooled, states: output.hiddenStates)
    }

    /// Hugging Face CLIP vision keys, bare or under `vision_model.` (a whole CLIPModel checkpoint).
    public func loadInitialWeights(from url: URL) throws -> PretrainedLoadSummary {
        let tensors = try CheckpointFile.read(url)
        let anchor = "embeddings.patch_embedding.weight"
        let prefix = tensors[anchor] == nil && tensors["vision_model." + anchor] != nil ? "vision_model." : ""
        var (own, ignored) = prefix.isEmpty ? (tensors, []) : CheckpointFile.selecting(prefix: prefix, from: tensors)
        // A CLIPModel keeps visual_projection beside vision_model; a tower without one leaves it.
        if projection == nil, let key = own.keys.first(where: { $0 == "visual_projection.weight" }) {
            own.removeValue(forKey: key)
            ignored.append(key)
        }
        try loadStateDict(own, strict: true, source: url.path)
        return PretrainedLoadSummary(source: url.path, prefix: prefix, ignoredKeys: ignored.sorted())
    }
}
