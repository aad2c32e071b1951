/// Multi-head attention with separate query/key/value/output projections (`q_proj`, `k_proj`,
/// `v_proj`, `out_proj`, as Hugging Face CLIP names them). Self-attention passes the same
/// tensor three times; cross-attention takes queries from one modality and keys/values from
/// another (`keyValueSize` may differ from `dimension`). Inputs are batch-first [B, L, E].
public final class MultiHeadAttention: Module {
    @Child(key: "q_proj") public var queryProjection: Linear
    @Child(key: "k_proj") public var keyProjection: Linear
    @Child(key: "v_proj") public var valueProjection: Linear
    @Child(key: "out_proj") public var outputProjection: Linear
    public let heads: Int
    public let dimension: Int
    public let dropout: Double

    public init(dimension: Int, heads: Int, keyValueSize: Int? = nil, bias: Bool = true, dropout: Double = 0) throws {
        guard heads > 0, dimension % heads == 0 else {
            throw TorchError("MultiHeadAttention", "dimension \(dimension) is not divisible by \(heads) heads")
        }
        let kv = keyValueSize ?? dimension
        _queryProjection.wrappedValue = try Linear(dimension, dimension, bias: bias)
        _keyProjection.wrappedValue = try Linear(kv, dimension, bias: bias)
        _valueProjection.wrappedValue = try Linear(kv, dimension, bias: bias)
        _outputProjection.wrappedValue = try Linear(dimension, dimension, bias: bias)
        self.heads = heads
        self.dimension = dimension
        self.dropout = dropout
        super.init()
    }

    /// - Parameters:
    ///   - keyPaddingMask: boolean [B, S], true where a key is padding and must be ignored
    ///     (`nn.MultiheadAttention`'s convention).
    ///   - attentionMask: boolean [L, S] or [B·H?, L, S] with true = not allowed, or an
    ///     additive float mask.
    ///   - returnWeights: also return the per-head attention probabilities [B, H, L, S].
    public func callAsFunction(query: Tensor, key: Tensor, value: Tensor, keyPaddingMask: Tensor? = nil,
                               attentionMask: Tensor? = nil, isCausal: Bool = false,
                               returnWeights: Bool = false) throws -> (output: Tensor, weights: Tensor?) {
        let batch = query.size(0), queryLength = query.size(1), keyLength = key.size(1)
        let headSize = dimension / heads
        func split(_ x: Tensor, _ length: Int) throws -> Tensor {
            try x.reshaped([batch, length, heads, headSize]).transposed(1, 2)
        }
        let q: Tensor, k: Tensor, v: Tensor
        let adapted = queryProjection.hasAdapter || keyProjection.hasAdapter || valueProjection.hasAdapter
        if query === key, key === value, queryProjection.bias != nil, !adapted {
            // Self-attention: one packed projection (as nn.MultiheadAttention's in_proj) instead
            // of three matmuls; the checkpoint keys stay separate. Projections with LoRA adapters
            // run one by one, each through its adapter.
            let weight = try cat([queryProjection.weight, keyProjection.weight, valueProjection.weight])
            let bias = try cat([queryProjection.bias!, keyProjection.bias!, valueProjection.bias!])
            let parts = try Functional.linear(query, weight: weight, bias: bias).chunked(3, dim: -1)
            (q, k, v) = (try split(parts[0], queryLength), try split(parts[1], keyLength), try split(parts[2], keyLength))
        } else {
            q = try split(queryProjection(query), queryLength)
            k = try split(keyProjection(key), keyLength)
            v = try split(valueProjection(value), keyLength)
        }
        let mask = try combinedMask(keyPaddingMask: keyPaddingMask, attentionMask: attentionMask, batch: batch, keyLength: keyLength)
        let (attended, weights) = try Functional.scaledDotProductAttention(
            query: q, key: k, value: v, mask: mask, dropout: dropout, isCausal: isCausal,
            training: isTraining, returnWeights: returnWeights)
        let merged = try attended.transposed(1, 2).reshaped([batch, queryLength, dimension])
        return (try outputProjection(merged), weights)
    }

    /// Self-attention.
    public func callAsFunction(_ x: Tensor, keyPaddingMask: Tensor? = nil, attentionMask: Tensor? = nil,
                               isCausal: Bool = false) throws -> Tensor {
        try self(query: x, key: x, value: x, keyPaddingMask: keyPaddingMask, attentionMask: attentionMask, isCausal: isCausal).output
    }

    /// One mask in SDPA's convention (boolean true = may attend, or additive float),
    /// broadcastable to [B, H, L, S].
    private func combinedMask(keyPaddingMask: Tensor?, attentionMask: Tensor?, batch: Int, keyLength: Int) throws -> Tensor? {
        let padding = try keyPaddingMask.map { try $0.reshaped([batch, 1, 1, keyLength]) }
        guard let attentionMask else { return try padding?.logicalNot() }
        if attentionMask.dtype == .bool {
            let allowed = try attentionMask.logicalNot()
            guard let padding else { return allowed }
            return try allowed.logicalAnd(padding.logicalNot())
        }
        guard let padding else { return attentionMask }
        let lowest = Double(-Float.greatestFiniteMagnitude)
        return try attentionMask + (try Tensor.zeros(padding.shape, dtype: attentionMask.dtype, device: attentionMask.device).maskedFill(padding, lowest))
    }
}
