import Torch

/// BERT's MLM prediction head (`cls.predictions`): dense → GELU → LayerNorm → vocabulary
/// logits. Keys: `transform.dense`, `transform.LayerNorm`, `decoder`.
public final class MaskedLanguageModelHead: Module {
    @Child(key: "transform.dense") public var dense: Linear
    @Child(key: "transform.LayerNorm") public var layerNorm: LayerNorm
    @Child(key: "decoder") public var decoder: Linear

    public init(width: Int, vocabularySize: Int, layerNormEps: Double = 1e-12) throws {
        _dense.wrappedValue = try Linear(width, width)
        _layerNorm.wrappedValue = try LayerNorm([width], eps: layerNormEps)
        _decoder.wrappedValue = try Linear(width, vocabularySize)
        super.init()
    }

    /// [..., width] states → [..., vocabularySize] logits.
    public func callAsFunction(_ states: Tensor) throws -> Tensor {
        try decoder(layerNorm(dense(states).gelu()))
    }
}
