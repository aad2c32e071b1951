import Foundation

/// The shape of a ViT image encoder (CLIP-style: pre-LN blocks, class token, learned positions).
/// JSON keys are snake_case (`image_size`, `patch_size`, …), as in OpenCLIP's `vision_cfg`.
public struct VisionTransformerConfiguration: Codable, Equatable, Sendable {
    /// The image side the position table was made for; other sizes (multiples of the patch)
    /// resample the table bicubically.
    public var imageSize: Int
    public var patchSize: Int
    public var width: Int
    public var layers: Int
    public var heads: Int
    public var mlpWidth: Int
    /// Output size of `visual_projection`; 0 for none.
    public var projectionDim: Int
    public var layerNormEps: Double
    /// "quick_gelu" (x·σ(1.702x), OpenAI CLIP) or "gelu" (exact).
    public var activation: String
    public var inputChannels: Int
    public var dropout: Double
    /// Whether the pooled class token passes through `post_layernorm` (CLIP, Chinese-CLIP,
    /// swift-vlp's own ViTs) or is taken as the last block leaves it, the tower then having no
    /// `post_layernorm` (R2D2, whose feature is `vision_proj(last_hidden_state[:, 0])`).
    public var postLayerNorm: Bool

    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size", patchSize = "patch_size", width, layers, heads, mlpWidth = "mlp_width"
        case projectionDim = "projection_dim", layerNormEps = "layer_norm_eps", activation
        case inputChannels = "input_channels", dropout, postLayerNorm = "post_layernorm"
    }

    public init(imageSize: Int, patchSize: Int, width: Int, layers: Int, heads: Int, mlpWidth: Int? = nil, projectionDim: Int = 0,
                layerNormEps: Double = 1e-5, activation: String = "gelu", inputChannels: Int = 3, dropout: Double = 0,
                postLayerNorm: Bool = true) {
        self.imageSize = imageSize
        self.patchSize = patchSize
        self.width = width
        self.layers = layers
        self.heads = heads
        self.mlpWidth = mlpWidth ?? 4 * width
        self.projectionDim = projectionDim
        self.layerNormEps = layerNormEps
        self.activation = activation
        self.inputChannels = inputChannels
        self.dropout = dropout
        self.postLayerNorm = postLayerNorm
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let width = try c.decode(Int.self, forKey: .width)
        self.init(imageSize: try c.decode(Int.self, forKey: .imageSize), patchSize: try c.decode(Int.self, forKey: .patchSize),
                  width: width, layers: try c.decode(Int.self, forKey: .layers), heads: try c.decode(Int.self, forKey: .heads),
                  mlpWidth: try c.decodeIfPresent(Int.self, forKey: .mlpWidth),
                  projectionDim: try c.decodeIfPresent(Int.self, forKey: .projectionDim) ?? 0,
                  layerNormEps: try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? 1e-5,
                  activation: try c.decodeIfPresent(String.self, forKey: .activation) ?? "gelu",
                  inputChannels: try c.decodeIfPresent(Int.self, forKey: .inputChannels) ?? 3,
                  dropout: try c.decodeIfPresent(Double.self, forKey: .dropout) ?? 0,
                  postLayerNorm: try c.decodeIfPresent(Bool.self, forKey: .postLayerNorm) ?? true)
    }

    /// Patches per side at `imageSize`.
    public var gridSize: Int { imageSize / patchSize }

    public func validate(source: String) throws {
        func fail(_ reason: String) -> ModelError { .invalidConfiguration(source: source, reason: reason) }
        guard imageSize > 0, patchSize > 0, width > 0, layers >= 0, heads > 0, mlpWidth > 0, projectionDim >= 0, inputChannels > 0 else {
            throw fail("sizes must be positive")
        }
        guard imageSize % patchSize == 0 else { throw fail("image_size \(imageSize) is not a multiple of patch_size \(patchSize)") }
        guard width % heads == 0 else { throw fail("width \(width) is not divisible by heads \(heads)") }
        guard ["gelu", "quick_gelu"].contains(activation) else {
            throw fail("activation \"\(activation)\" is not supported (gelu, quick_gelu)")
        }
    }
}
