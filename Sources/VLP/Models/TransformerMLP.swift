import Torch

/// A transformer block's feed-forward part, `fc2(act(fc1(x)))` (Hugging Face CLIP's `mlp`).
public final class TransformerMLP: Module {
    public enum ActivationKind: String, Sendable, Codable, CaseIterable {
        /// Exact GELU.
        case gelu
        /// `x·σ(1.702·x)`, the approximation OpenAI's CLIP was trained with.
        case quickGELU = "quick_gelu"
    }

    public var fc1: Linear
    public var fc2: Linear
    public let activation: ActivationKind

    public init(width: Int, hidden: Int, activation: ActivationKind = .gelu) throws {
        fc1 = try Linear(width, hidden)
        fc2 = try Linear(hidden, width)
        self.activation = activation
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let h = try fc1(x)
        switch activation {
        case .gelu: return try fc2(h.gelu())
        case .quickGELU: return try fc2(h * (h * 1.702).sigmoid())
        }
    }
}
