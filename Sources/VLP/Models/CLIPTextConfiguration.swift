import Foundation

/// The shape of OpenAI CLIP's text transformer (OpenCLIP's `text_cfg`): token and learned
/// position embeddings, pre-LN blocks under a causal mask, a final layer norm, and the state at
/// the end-of-text token as the text's vector. JSON keys are snake_case, as in the model
/// configuration's `text` section with `"kind": "clip"`.
public struct CLIPTextConfiguration: Codable, Equatable, Sendable {
    public var vocabularySize: Int
    public var width: Int
    public var layers: Int
    public var heads: Int
    /// Positions of the learned position table: the longest text the tower takes (77 for CLIP).
    public var contextLength: Int
    public var mlpWidth: Int
    public var layerNormEps: Double
    /// The blocks' feed-forward activation: OpenAI's weights were trained with QuickGELU,
    /// OpenCLIP's own (LAION) models with exact GELU.
    public var activation: TransformerMLP.ActivationKind
    public var dropout: Double

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size", width, layers, heads, contextLength = "context_length", mlpWidth = "mlp_width"
        case layerNormEps = "layer_norm_eps", activation, dropout
    }

    public init(vocabularySize: Int = 49408, width: Int = 512, layers: Int = 12, heads: Int = 8, contextLength: Int = 77,
                mlpWidth: Int? = nil, layerNormEps: Double = 1e-5, activation: TransformerMLP.ActivationKind = .gelu, dropout: Double = 0) {
        self.vocabularySize = vocabularySize
        self.width = width
        self.layers = layers
        self.heads = heads
        self.contextLength = contextLength
        self.mlpWidth = mlpWidth ?? 4 * width
        self.layerNormEps = layerNormEps
        self.activation = activation
        self.dropout = dropout
    }

    /// Missing keys take ViT-B/32's text tower's values (mlp width 4 × width).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = CLIPTextConfiguration()
        let width = try c.decodeIfPresent(Int.self, forKey: .width) ?? d.width
        let name = try c.decodeIfPresent(String.self, forKey: .activation) ?? d.activation.rawValue
        guard let activation = TransformerMLP.ActivationKind(rawValue: name) else {
            throw DecodingError.dataCorruptedError(forKey: .activation, in: c, debugDescription: "activation \"\(name)\" is not known (allowed: gelu, quick_gelu)")
        }
        self.init(vocabularySize: try c.decodeIfPresent(Int.self, forKey: .vocabularySize) ?? d.vocabularySize, width: width,
                  layers: try c.decodeIfPresent(Int.self, forKey: .layers) ?? d.layers,
                  heads: try c.decodeIfPresent(Int.self, forKey: .heads) ?? d.heads,
                  contextLength: try c.decodeIfPresent(Int.self, forKey: .contextLength) ?? d.contextLength,
                  mlpWidth: try c.decodeIfPresent(Int.self, forKey: .mlpWidth),
                  layerNormEps: try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? d.layerNormEps,
                  activation: activation, dropout: try c.decodeIfPresent(Double.self, forKey: .dropout) ?? d.dropout)
    }

    public func validate(source: String) throws {
        func fail(_ reason: String) -> ModelError { .invalidConfiguration(source: source, reason: reason) }
        guard vocabularySize > 0, width > 0, layers >= 0, heads > 0, contextLength > 0, mlpWidth > 0 else {
            throw fail("sizes must be positive (vocab_size \(vocabularySize), width \(width), layers \(layers), heads \(heads), context_length \(contextLength), mlp_width \(mlpWidth))")
        }
        guard width % heads == 0 else { throw fail("width \(width) is not divisible by heads \(heads)") }
    }
}
