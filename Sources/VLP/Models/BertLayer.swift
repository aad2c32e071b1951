import Torch

/// One post-LN BERT block, keyed as Hugging Face's `BertLayer`:
/// `attention.self.{query,key,value}`, `attention.output.{dense,LayerNorm}`,
/// `intermediate.dense`, `output.{dense,LayerNorm}`.
///
/// h = LN(x + Dropout(Wₒ·Attention(x)));  y = LN(h + Dropout(W₂·act(W₁·h)))
public final class BertLayer: Module {
    public var attention: BertAttention
    public var intermediate: BertIntermediate
    public var output: BertResidualOutput

    public init(_ c: BertConfiguration) throws {
        attention = try BertAttention(c)
        intermediate = try BertIntermediate(c)
        output = try BertResidualOutput(inputSize: c.intermediateSize, c)
        super.init()
    }

    /// - Parameters:
    ///   - mask: boolean, broadcastable to [B, H, L, L], true where a query may attend a key.
    public func callAsFunction(_ x: Tensor, mask: Tensor?, returnWeights: Bool = false) throws -> (output: Tensor, weights: Tensor?) {
        let (attended, weights) = try attention(x, mask: mask, returnWeights: returnWeights)
        return (try output(intermediate(attended), residual: attended), weights)
    }
}

/// Self-attention followed by its output projection, residual and layer norm.
public final class BertAttention: Module {
    @Child(key: "self") public var selfAttention: BertSelfAttention
    public var output: BertResidualOutput

    public init(_ c: BertConfiguration) throws {
        _selfAttention.wrappedValue = try BertSelfAttention(c)
        output = try BertResidualOutput(inputSize: c.hiddenSize, c)
        super.init()
    }

    public func callAsFunction(_ x: Tensor, mask: Tensor?, returnWeights: Bool = false) throws -> (output: Tensor, weights: Tensor?) {
        let (context, weights) = try selfAttention(x, mask: mask, returnWeights: returnWeights)
        return (try output(context, residual: x), weights)
    }
}

/// Multi-head scaled dot-product self-attention with BERT's projection names (`query`, `key`,
/// `value`); returns the merged heads before the output projection.
public final class BertSelfAttention: Module {
    public var query: Linear
    public var key: Linear
    public var value: Linear
    public let heads: Int
    public let dropoutProbability: Double

    public init(_ c: BertConfiguration) throws {
        query = try Linear(c.hiddenSize, c.hiddenSize)
        key = try Linear(c.hiddenSize, c.hiddenSize)
        value = try Linear(c.hiddenSize, c.hiddenSize)
        heads = c.heads
        dropoutProbability = c.attentionDropout
        super.init()
    }

    public func callAsFunction(_ x: Tensor, mask: Tensor?, returnWeights: Bool = false) throws -> (output: Tensor, weights: Tensor?) {
        let batch = x.size(0), length = x.size(1), width = x.size(2)
        func split(_ t: Tensor) throws -> Tensor {
            try t.reshaped([batch, length, heads, width / heads]).transposed(1, 2)
        }
        let (attended, weights) = try Functional.scaledDotProductAttention(
            query: split(query(x)), key: split(key(x)), value: split(value(x)), mask: mask,
            dropout: dropoutProbability, training: isTraining, returnWeights: returnWeights)
        return (try attended.transposed(1, 2).reshaped([batch, length, width]), weights)
    }
}

/// The feed-forward block's expansion: `act(W₁·h)`.
public final class BertIntermediate: Module {
    public var dense: Linear
    public let activation: Activation

    public init(_ c: BertConfiguration) throws {
        dense = try Linear(c.hiddenSize, c.intermediateSize)
        activation = Activation(try c.activation())
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try activation(dense(x)) }
}

/// `LayerNorm(residual + Dropout(dense(x)))`, BERT's post-LN residual step (both
/// `attention.output` and `output` have this form).
public final class BertResidualOutput: Module {
    public var dense: Linear
    @Child(key: "LayerNorm") public var layerNorm: LayerNorm
    public let dropout: Dropout

    public init(inputSize: Int, _ c: BertConfiguration) throws {
        dense = try Linear(inputSize, c.hiddenSize)
        _layerNorm.wrappedValue = try LayerNorm([c.hiddenSize], eps: c.layerNormEps)
        dropout = Dropout(c.hiddenDropout)
        super.init()
    }

    public func callAsFunction(_ x: Tensor, residual: Tensor) throws -> Tensor {
        try layerNorm(residual + dropout(dense(x)))
    }
}
