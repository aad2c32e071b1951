/// A transformer encoder block: self-attention and a two-layer MLP, each in a residual branch,
/// with layer norm after each branch (post-LN, BERT) or before it (pre-LN, ViT/CLIP).
/// Keys follow `nn.TransformerEncoderLayer` (`self_attn`, `linear1`, `linear2`, `norm1`, `norm2`),
/// with attention projections split as in `MultiHeadAttention`.
public final class TransformerEncoderLayer: Module {
    @Child(key: "self_attn") public var selfAttention: MultiHeadAttention
    public var linear1: Linear
    public var linear2: Linear
    public var norm1: LayerNorm
    public var norm2: LayerNorm
    public let dropout: Dropout
    public let activation: Activation.Kind
    public let normFirst: Bool

    public init(dimension: Int, heads: Int, feedForward: Int, dropout: Double = 0.1, activation: Activation.Kind = .gelu,
                normFirst: Bool = true, layerNormEps: Double = 1e-5) throws {
        _selfAttention.wrappedValue = try MultiHeadAttention(dimension: dimension, heads: heads, dropout: dropout)
        linear1 = try Linear(dimension, feedForward)
        linear2 = try Linear(feedForward, dimension)
        norm1 = try LayerNorm([dimension], eps: layerNormEps)
        norm2 = try LayerNorm([dimension], eps: layerNormEps)
        self.dropout = Dropout(dropout)
        self.activation = activation
        self.normFirst = normFirst
        super.init()
    }

    /// `keyPaddingMask`: boolean [B, S], true at padding positions.
    public func callAsFunction(_ x: Tensor, keyPaddingMask: Tensor? = nil, attentionMask: Tensor? = nil,
                               isCausal: Bool = false) throws -> Tensor {
        func attend(_ h: Tensor) throws -> Tensor {
            try dropout(selfAttention(h, keyPaddingMask: keyPaddingMask, attentionMask: attentionMask, isCausal: isCausal))
        }
        func feedForward(_ h: Tensor) throws -> Tensor {
            try dropout(linear2(dropout(Activation(activation)(linear1(h)))))
        }
        if normFirst {
            let h = try x + attend(norm1(x))
            return try h + feedForward(norm2(h))
        }
        let h = try norm1(x + attend(x))
        return try norm2(h + feedForward(h))
    }
}
