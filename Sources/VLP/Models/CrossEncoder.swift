import Foundation
import Torch

/// The shape of a cross encoder. JSON keys are snake_case.
public struct CrossEncoderConfiguration: Codable, Equatable, Sendable {
    /// How one modality's states are brought to the cross encoder's width.
    public enum InputMap: String, Codable, CaseIterable, Sendable {
        /// A linear map before the blocks (`query_map` / `context_map`): swift-vlp's own cross encoders.
        case linear
        /// No map: queries enter at their own width, which must be the encoder's; context states are
        /// read at their own width by every cross-attention's key and value projections (BLIP's,
        /// ALBEF's and R2D2's cross BERTs).
        case direct
    }

    /// Width of the fused representation.
    public var width: Int
    public var layers: Int
    public var heads: Int
    public var mlpWidth: Int
    /// Width of the query modality's states (mapped to `width` by `query_map`).
    public var queryInputWidth: Int
    /// Width of the other modality's states (mapped to `width` by `context_map`).
    public var contextInputWidth: Int
    public var layerNormEps: Double
    public var dropout: Double
    /// Pre-LN blocks when true; post-LN (BERT-style, as R2D2's cross encoders) when false.
    public var normFirst: Bool
    /// JSON `query_map`, default linear.
    public var queryMap: InputMap
    /// JSON `context_map`, default linear.
    public var contextMap: InputMap

    enum CodingKeys: String, CodingKey {
        case width, layers, heads, mlpWidth = "mlp_width", queryInputWidth = "query_input_width"
        case contextInputWidth = "context_input_width", layerNormEps = "layer_norm_eps", dropout, normFirst = "norm_first"
        case queryMap = "query_map", contextMap = "context_map"
    }

    public init(width: Int, layers: Int, heads: Int, mlpWidth: Int? = nil, queryInputWidth: Int, contextInputWidth: Int,
                layerNormEps: Double = 1e-12, dropout: Double = 0.1, normFirst: Bool = false,
                queryMap: InputMap = .linear, contextMap: InputMap = .linear) {
        self.width = width
        self.layers = layers
        self.heads = heads
        self.mlpWidth = mlpWidth ?? 4 * width
        self.queryInputWidth = queryInputWidth
        self.contextInputWidth = contextInputWidth
        self.layerNormEps = layerNormEps
        self.dropout = dropout
        self.normFirst = normFirst
        self.queryMap = queryMap
        self.contextMap = contextMap
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let width = try c.decode(Int.self, forKey: .width)
        self.init(width: width, layers: try c.decode(Int.self, forKey: .layers), heads: try c.decode(Int.self, forKey: .heads),
                  mlpWidth: try c.decodeIfPresent(Int.self, forKey: .mlpWidth),
                  queryInputWidth: try c.decodeIfPresent(Int.self, forKey: .queryInputWidth) ?? width,
                  contextInputWidth: try c.decodeIfPresent(Int.self, forKey: .contextInputWidth) ?? width,
                  layerNormEps: try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? 1e-12,
                  dropout: try c.decodeIfPresent(Double.self, forKey: .dropout) ?? 0.1,
                  normFirst: try c.decodeIfPresent(Bool.self, forKey: .normFirst) ?? false,
                  queryMap: try c.decodeIfPresent(InputMap.self, forKey: .queryMap) ?? .linear,
                  contextMap: try c.decodeIfPresent(InputMap.self, forKey: .contextMap) ?? .linear)
    }

    public func validate(source: String) throws {
        func fail(_ reason: String) -> ModelError { .invalidConfiguration(source: source, reason: reason) }
        guard width > 0, layers >= 0, heads > 0, mlpWidth > 0, queryInputWidth > 0, contextInputWidth > 0 else {
            throw fail("sizes must be positive")
        }
        guard width % heads == 0 else { throw fail("width \(width) is not divisible by heads \(heads)") }
        guard (0..<1).contains(dropout) else { throw fail("dropout \(dropout) is outside [0, 1)") }
        if queryMap == .direct && queryInputWidth != width {
            throw fail("query_map direct needs queries as wide as the encoder (\(width)), not \(queryInputWidth)")
        }
    }

    /// Width of the context states the cross-attentions' key and value projections read.
    var attendedContextWidth: Int { contextMap == .direct ? contextInputWidth : width }
}

/// What a cross encoder returns.
public struct CrossEncoderOutput {
    /// Fused query states [B, Lq, width]; token 0 (`[CLS]`) is the pair's representation.
    public let hiddenStates: Tensor
    /// Per layer, the cross-attention probabilities [B, heads, Lq, Lc] of each query token over
    /// the context tokens (for entity attention maps), when asked for.
    public let crossAttentionWeights: [Tensor]
}

/// R2D2's cross encoder: the states of one modality (queries, e.g. text tokens) attend to
/// themselves and then to the states of the other (context, e.g. image patches), through N
/// blocks of self-attention + cross-attention + MLP. Linear maps (`query_map`, `context_map`)
/// first bring both modalities to the common width, unless the configuration reads either
/// directly (`InputMap.direct`, as R2D2's released cross BERTs do). R2D2 has two:
/// text-attends-image and image-attends-text.
///
/// Keys: `query_map`, `context_map` (when linear), `layers.N.{self_attn, self_attn_layer_norm, cross_attn,
/// cross_attn_layer_norm, mlp.fc1, mlp.fc2, final_layer_norm}` (attention projections
/// `q_proj`/`k_proj`/`v_proj`/`out_proj`).
public final class CrossEncoder: Module, ActivationCheckpointing {
    @Child(key: "query_map") public var queryMap: Linear?
    @Child(key: "context_map") public var contextMap: Linear?
    public var layers: [CrossEncoderLayer]
    public let configuration: CrossEncoderConfiguration
    public var checkpointsActivations = false

    public init(_ configuration: CrossEncoderConfiguration) throws {
        let c = configuration
        try c.validate(source: "CrossEncoder")
        _queryMap.wrappedValue = c.queryMap == .linear ? try Linear(c.queryInputWidth, c.width) : nil
        _contextMap.wrappedValue = c.contextMap == .linear ? try Linear(c.contextInputWidth, c.width) : nil
        layers = try (0..<c.layers).map { _ in try CrossEncoderLayer(c) }
        self.configuration = c
        super.init()
    }

    /// - Parameters:
    ///   - queries: [B, Lq, queryInputWidth].
    ///   - queryMask: [B, Lq], nonzero (or true) at real tokens, 0 at padding (Hugging Face's
    ///     attention-mask convention, as `TextBatch.attentionMask`); padded queries are not
    ///     attended to (their own outputs are computed but meaningless).
    ///   - context: [B, Lc, contextInputWidth].
    ///   - contextMask: [B, Lc], same convention; padded context tokens get zero weight.
    ///   - returnCrossAttention: also return each layer's cross-attention probabilities.
    public func callAsFunction(queries: Tensor, queryMask: Tensor? = nil, context: Tensor, contextMask: Tensor? = nil,
                               returnCrossAttention: Bool = false) throws -> CrossEncoderOutput {
        let c = configuration
        guard queries.rank == 3, queries.size(2) == c.queryInputWidth else {
            throw ModelError.invalidInput(name: "queries", reason: "expected [batch, length, \(c.queryInputWidth)], got \(queries.shape)")
        }
        guard context.rank == 3, context.size(2) == c.contextInputWidth, context.size(0) == queries.size(0) else {
            throw ModelError.invalidInput(name: "context", reason: "expected [\(queries.size(0)), length, \(c.contextInputWidth)], got \(context.shape)")
        }
        let queryPadding = try padding(queryMask, name: "queryMask", like: queries)
        let contextPadding = try padding(contextMask, name: "contextMask", like: context)
        var h = try queryMap?(queries) ?? queries
        let mappedContext = try contextMap?(context) ?? context
        var weights: [Tensor] = []
        for layer in layers {
            if checkpointsActivations && !returnCrossAttention {
                // The context needs its gradient too, so it is an input of every block.
                h = try checkpointed([h, mappedContext]) {
                    [try layer($0[0], queryPadding: queryPadding, context: $0[1], contextPadding: contextPadding).output]
                }[0]
                continue
            }
            let (next, w) = try layer(h, queryPadding: queryPadding, context: mappedContext, contextPadding: contextPadding,
                                      returnCrossAttention: returnCrossAttention)
            h = next
            if let w { weights.append(w) }
        }
        return CrossEncoderOutput(hiddenStates: h, crossAttentionWeights: weights)
    }

    /// Boolean [B, L], true at padding, from a mask that is nonzero at real tokens.
    private func padding(_ mask: Tensor?, name: String, like states: Tensor) throws -> Tensor? {
        guard let mask else { return nil }
        guard mask.shape == [states.size(0), states.size(1)] else {
            throw ModelError.invalidInput(name: name, reason: "shape \(mask.shape) does not match states \(states.shape)")
        }
        return try mask .== 0
    }
}

/// One block: self-attention over the queries, cross-attention to the context, MLP; each in a
/// residual branch with its layer norm (after the branch, or before it when `normFirst`).
public final class CrossEncoderLayer: Module {
    @Child(key: "self_attn") public var selfAttention: MultiHeadAttention
    @Child(key: "self_attn_layer_norm") public var selfAttentionNorm: LayerNorm
    @Child(key: "cross_attn") public var crossAttention: MultiHeadAttention
    @Child(key: "cross_attn_layer_norm") public var crossAttentionNorm: LayerNorm
    public var mlp: TransformerMLP
    @Child(key: "final_layer_norm") public var mlpNorm: LayerNorm
    public let dropout: Dropout
    public let normFirst: Bool

    public init(_ c: CrossEncoderConfiguration) throws {
        _selfAttention.wrappedValue = try MultiHeadAttention(dimension: c.width, heads: c.heads, dropout: c.dropout)
        _selfAttentionNorm.wrappedValue = try LayerNorm([c.width], eps: c.layerNormEps)
        _crossAttention.wrappedValue = try MultiHeadAttention(dimension: c.width, heads: c.heads, keyValueSize: c.attendedContextWidth,
                                                              dropout: c.dropout)
        _crossAttentionNorm.wrappedValue = try LayerNorm([c.width], eps: c.layerNormEps)
        mlp = try TransformerMLP(width: c.width, hidden: c.mlpWidth)
        _mlpNorm.wrappedValue = try LayerNorm([c.width], eps: c.layerNormEps)
        dropout = Dropout(c.dropout)
        normFirst = c.normFirst
        super.init()
    }

    /// Paddings are boolean [B, L], true where a key must be ignored.
    public func callAsFunction(_ x: Tensor, queryPadding: Tensor?, context: Tensor, contextPadding: Tensor?,
                               returnCrossAttention: Bool = false) throws -> (output: Tensor, crossAttention: Tensor?) {
        // One residual step: x + branch(x) normalised after (post-LN) or branch of norm(x) (pre-LN).
        func residual(_ x: Tensor, _ norm: LayerNorm, _ branch: (Tensor) throws -> Tensor) throws -> Tensor {
            normFirst ? try x + dropout(branch(norm(x))) : try norm(x + dropout(branch(x)))
        }
        let h1 = try residual(x, selfAttentionNorm) { try selfAttention($0, keyPaddingMask: queryPadding) }
        var weights: Tensor?
        let h2 = try residual(h1, crossAttentionNorm) { q in
            let (attended, w) = try crossAttention(query: q, key: context, value: context, keyPaddingMask: contextPadding,
                                                   returnWeights: returnCrossAttention)
            weights = w
            return attended
        }
        return (try residual(h2, mlpNorm) { try mlp($0) }, weights)
    }
}
