import Foundation
import Torch

/// OpenAI CLIP's text encoder (OpenCLIP's `TextTransformer`, Hugging Face's `CLIPTextTransformer`):
/// token embedding plus a learned position table, pre-LN blocks in which each token attends only
/// to itself and the tokens before it (causal mask), a final layer norm, and as the text's vector
/// the state at the end-of-text token — the position of the largest id in each row, since
/// `<end_of_text>` is the last entry of CLIP's vocabulary (OpenCLIP's `argmax` pooling).
///
/// Padding after the end-of-text token needs no mask: causal attention never lets an earlier
/// token see a later one, so the pooled state is the same at any padded length.
///
/// Keys are Hugging Face CLIP's text tower (`embeddings.token_embedding.weight`,
/// `embeddings.position_embedding.weight`, `encoder.layers.N.{self_attn.{q,k,v,out}_proj,
/// layer_norm1, mlp.fc1, mlp.fc2, layer_norm2}`, `final_layer_norm`); the projection to the
/// shared width is the dual encoder's `text_projection`.
public final class CLIPTextTransformer: Module {
    public var embeddings: CLIPTextEmbeddings
    public var encoder: CLIPTextEncoder
    @Child(key: "final_layer_norm") public var finalNorm: LayerNorm
    public let configuration: CLIPTextConfiguration

    public init(_ configuration: CLIPTextConfiguration) throws {
        try configuration.validate(source: "CLIPTextTransformer")
        embeddings = try CLIPTextEmbeddings(configuration)
        encoder = try CLIPTextEncoder(configuration)
        _finalNorm.wrappedValue = try LayerNorm([configuration.width], eps: configuration.layerNormEps)
        self.configuration = configuration
        super.init()
    }

    /// - Parameter inputIDs: integer [B, L], L ≤ the context length, each row holding its
    ///   end-of-text token as its largest id.
    /// - Returns: the normalised token states [B, L, width] and the end-of-text states [B, width].
    public func callAsFunction(_ inputIDs: Tensor) throws -> TextTowerOutput {
        guard inputIDs.rank == 2, !inputIDs.dtype.isFloatingPoint, inputIDs.dtype != .bool else {
            throw ModelError.invalidInput(name: "inputIDs", reason: "expected integer [batch, length], got \(inputIDs.dtype) \(inputIDs.shape)")
        }
        let (batch, length) = (inputIDs.size(0), inputIDs.size(1))
        guard length > 0, length <= configuration.contextLength else {
            throw ModelError.invalidInput(name: "inputIDs", reason: "length \(length) is outside 1…\(configuration.contextLength), the positions of this text tower")
        }
        let ids = try inputIDs.to(.int64)
        let states = try finalNorm(encoder(embeddings(ids)))
        let endOfText = try ids.argmax(dim: -1).reshaped([batch, 1, 1]).expanded([batch, 1, configuration.width])
        let pooled = try states.gather(dim: 1, endOfText).reshaped([batch, configuration.width])
        return TextTowerOutput(pooled: pooled, states: states)
    }
}

extension CLIPTextTransformer: TextTower {
    public var width: Int { configuration.width }

    /// The mask and segment ids are not used (see the type's comment on padding).
    public func towerOutput(_ inputIDs: Tensor, attentionMask: Tensor, tokenTypeIDs: Tensor?) throws -> TextTowerOutput {
        try self(inputIDs)
    }
}

/// Token embedding plus the learned position of each token (Hugging Face `CLIPTextEmbeddings`).
public final class CLIPTextEmbeddings: Module {
    @Child(key: "token_embedding") public var tokenEmbedding: Embedding
    @Child(key: "position_embedding") public var positionEmbedding: Embedding

    public init(_ c: CLIPTextConfiguration) throws {
        _tokenEmbedding.wrappedValue = try Embedding(count: c.vocabularySize, dimension: c.width)
        _positionEmbedding.wrappedValue = try Embedding(count: c.contextLength, dimension: c.width)
        super.init()
        // OpenCLIP's initialisation: tokens N(0, 0.02), positions N(0, 0.01).
        try withNoGrad {
            try tokenEmbedding.weight.copy_(Initialization.normal(tokenEmbedding.weight.shape, std: 0.02))
            try positionEmbedding.weight.copy_(Initialization.normal(positionEmbedding.weight.shape, std: 0.01))
        }
    }

    /// int64 [B, L] → [B, L, width].
    public func callAsFunction(_ ids: Tensor) throws -> Tensor {
        let positions = try positionEmbedding.weight.narrowed(dim: 0, start: 0, length: ids.size(1))
        return try tokenEmbedding(ids) + positions
    }
}

/// The causal block stack, under `layers.N` (each block is the ViT's pre-LN block).
public final class CLIPTextEncoder: Module, ActivationCheckpointing {
    public var layers: [VisionTransformerLayer]
    public var checkpointsActivations = false

    public init(_ c: CLIPTextConfiguration) throws {
        layers = try (0..<c.layers).map { _ in
            try VisionTransformerLayer(width: c.width, heads: c.heads, mlpWidth: c.mlpWidth, layerNormEps: c.layerNormEps,
                                       activation: c.activation, dropout: c.dropout)
        }
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try layers.reduce(x) { h, layer in
            guard checkpointsActivations else { return try layer(h, isCausal: true) }
            return try checkpointed([h]) { [try layer($0[0], isCausal: true)] }[0]
        }
    }
}
