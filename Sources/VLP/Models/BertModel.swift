import Foundation
import Torch

/// How a sequence of token states becomes one vector.
public enum TextPooling: String, Sendable, Codable, CaseIterable {
    /// The last hidden state at `[CLS]` (position 0).
    case cls
    /// The mean of the hidden states over the attention mask (sentence-transformers' pooling).
    case mean
    /// BERT's pooler: `tanh(W·h[CLS] + b)` (needs the `pooler.dense` weights).
    case pooler
}

/// What a BERT forward pass returns.
public struct BertOutput {
    /// Last layer's token states [B, L, hidden].
    public let hiddenStates: Tensor
    /// The pooler's output [B, hidden], when the model has a pooler.
    public let pooled: Tensor?
    /// Per layer, the attention probabilities [B, heads, L, L], when asked for.
    public let attentionWeights: [Tensor]
}

/// A BERT / RoBERTa text encoder: embeddings, post-LN transformer blocks and an optional
/// pooler. The module tree and keys are Hugging Face's `BertModel`
/// (`embeddings.word_embeddings.weight`, `encoder.layer.0.attention.self.query.weight`, …,
/// `pooler.dense.weight`), so a Hugging Face `model.safetensors` loads strictly (see
/// `BertModel.pretrained(directory:)`).
public final class BertModel: Module {
    public var embeddings: BertEmbeddings
    public var encoder: BertEncoder
    public var pooler: BertPooler?
    public let configuration: BertConfiguration

    public init(_ configuration: BertConfiguration, withPooler: Bool = true) throws {
        try configuration.validate(source: "BertModel")
        embeddings = try BertEmbeddings(configuration)
        encoder = try BertEncoder(configuration)
        pooler = withPooler ? try BertPooler(configuration) : nil
        self.configuration = configuration
        super.init()
    }

    /// - Parameters:
    ///   - inputIDs: integer [B, L] token ids.
    ///   - attentionMask: [B, L], nonzero (or true) at real tokens and 0 at padding, as Hugging
    ///     Face passes it; all tokens attend when nil.
    ///   - tokenTypeIDs: integer [B, L] segment ids; zeros when nil.
    ///   - positionIDs: integer [B, L] or [1, L]; see `BertEmbeddings`.
    ///   - returnAttentionWeights: also return each layer's attention probabilities.
    public func callAsFunction(_ inputIDs: Tensor, attentionMask: Tensor? = nil, tokenTypeIDs: Tensor? = nil,
                               positionIDs: Tensor? = nil, returnAttentionWeights: Bool = false) throws -> BertOutput {
        guard inputIDs.rank == 2, !inputIDs.dtype.isFloatingPoint, inputIDs.dtype != .bool else {
            throw ModelError.invalidInput(name: "inputIDs", reason: "expected integer [batch, length], got \(inputIDs.dtype) \(inputIDs.shape)")
        }
        let (batch, length) = (inputIDs.size(0), inputIDs.size(1))
        let limit = configuration.maxPositions - (configuration.usesRobertaPositions ? configuration.padTokenID + 1 : 0)
        guard length <= limit else {
            throw ModelError.invalidInput(name: "inputIDs", reason: "length \(length) exceeds the \(limit) positions of this model")
        }
        for (name, t) in [("attentionMask", attentionMask), ("tokenTypeIDs", tokenTypeIDs)] {
            if let t, t.shape != [batch, length] {
                throw ModelError.invalidInput(name: name, reason: "shape \(t.shape) does not match inputIDs \(inputIDs.shape)")
            }
        }
        let ids = try inputIDs.to(.int64)
        let mask = try attentionMask.map { try ($0 .!= 0).reshaped([batch, 1, 1, length]) }
        let x = try embeddings(ids, tokenTypeIDs: tokenTypeIDs?.to(.int64), positionIDs: positionIDs?.to(.int64))
        let (hidden, weights) = try encoder(x, mask: mask, returnWeights: returnAttentionWeights)
        return BertOutput(hiddenStates: hidden, pooled: try pooler?(hidden), attentionWeights: weights)
    }

    /// One vector per text, pooled as asked and optionally L2-normalised.
    public func encode(_ inputIDs: Tensor, attentionMask: Tensor? = nil, tokenTypeIDs: Tensor? = nil,
                       pooling: TextPooling = .cls, normalized: Bool = false) throws -> Tensor {
        let output = try self(inputIDs, attentionMask: attentionMask, tokenTypeIDs: tokenTypeIDs)
        let vectors: Tensor
        switch pooling {
        case .cls: vectors = try output.hiddenStates.select(dim: 1, index: 0)
        case .mean: vectors = try Self.meanPool(output.hiddenStates, attentionMask: attentionMask)
        case .pooler:
            guard let pooled = output.pooled else {
                throw ModelError.invalidInput(name: "pooling", reason: "pooler pooling needs a model with a pooler (pooler.dense)")
            }
            vectors = pooled
        }
        return normalized ? try Functional.normalize(vectors, dim: -1) : vectors
    }

    /// Mean of `hidden` [B, L, D] over the positions where `attentionMask` [B, L] is nonzero
    /// (over all positions when nil); a row with no tokens gives zeros.
    public static func meanPool(_ hidden: Tensor, attentionMask: Tensor?) throws -> Tensor {
        guard let attentionMask else { return try hidden.mean(dim: 1) }
        let weights = try (attentionMask .!= 0).to(hidden.dtype).unsqueezed(dim: -1)
        let counts = try weights.sum(dim: 1).clamp(min: 1e-9)
        return try (hidden * weights).sum(dim: 1) / counts
    }
}

/// The stack of blocks, under `layer.N` as in Hugging Face.
public final class BertEncoder: Module, ActivationCheckpointing {
    @Child(key: "layer") public var layers: [BertLayer]
    public var checkpointsActivations = false

    public init(_ c: BertConfiguration) throws {
        _layers.wrappedValue = try (0..<c.layers).map { _ in try BertLayer(c) }
        super.init()
    }

    public func callAsFunction(_ x: Tensor, mask: Tensor?, returnWeights: Bool = false) throws -> (output: Tensor, weights: [Tensor]) {
        var h = x
        var weights: [Tensor] = []
        for layer in layers {
            if checkpointsActivations && !returnWeights {
                h = try checkpointed([h]) { [try layer($0[0], mask: mask).output] }[0]
                continue
            }
            let (next, w) = try layer(h, mask: mask, returnWeights: returnWeights)
            h = next
            if let w { weights.append(w) }
        }
        return (h, weights)
    }
}

/// `tanh(dense(h[:, 0]))`, BERT's sentence-level output.
public final class BertPooler: Module {
    public var dense: Linear

    public init(_ c: BertConfiguration) throws {
        dense = try Linear(c.hiddenSize, c.hiddenSize)
        super.init()
    }

    public func callAsFunction(_ hidden: Tensor) throws -> Tensor {
        try dense(hidden.select(dim: 1, index: 0)).tanh()
    }
}
