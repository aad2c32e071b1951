import Foundation

/// The model configuration's `vision` section: which image tower to build and its shape.
///
/// JSON: a ViT is the section as it always was (`image_size`, `patch_size`, `width`, …), with no
/// `kind` or `"kind": "vit"`, so every existing configuration and checkpoint `config.json` decodes
/// unchanged; `{"kind": "efficientnet", "variant": "lite0", "image_size": 96}` is ALIGN's tower;
/// `{"kind": "resnet", "image_size": 224, "layers": [3, 4, 6, 3], "width": 64, "heads": 32,
/// "output_dim": 1024}` CLIP's ModifiedResNet (RN50), which only `vlp import` fills with weights.
public enum ImageTowerConfiguration: Codable, Equatable, Sendable {
    case vit(VisionTransformerConfiguration)
    case efficientNet(EfficientNetTowerConfiguration)
    case resNet(ModifiedResNetConfiguration)

    /// The `kind` values.
    public enum Kind: String, CaseIterable, Sendable {
        case vit
        case efficientNet = "efficientnet"
        case resNet = "resnet"
    }

    public var kind: Kind {
        switch self {
        case .vit: return .vit
        case .efficientNet: return .efficientNet
        case .resNet: return .resNet
        }
    }

    /// The ResNet's shape, when the tower is CLIP's ModifiedResNet.
    public var resNet: ModifiedResNetConfiguration? {
        if case .resNet(let c) = self { return c }
        return nil
    }

    /// The ViT's shape, when the tower is a ViT (the single-stream model cuts its patches by it).
    public var vit: VisionTransformerConfiguration? {
        if case .vit(let c) = self { return c }
        return nil
    }

    /// One line for logs: "ViT 768 wide, 12 layers, 12 heads, patch 16, 224 px".
    public var summary: String {
        switch self {
        case .vit(let c): return "ViT \(c.width) wide, \(c.layers) layers, \(c.heads) heads, patch \(c.patchSize), \(c.imageSize) px"
        case .efficientNet(let c): return "EfficientNet-\(c.variant.rawValue), \(c.imageSize) px"
        case .resNet(let c):
            return "ModifiedResNet \(c.width) wide, blocks \(c.layers.map(String.init).joined(separator: "-")), attention pool \(c.heads) heads → \(c.outputDim), \(c.imageSize) px"
        }
    }

    /// The side of the square images the tower takes.
    public var imageSize: Int {
        get {
            switch self {
            case .vit(let c): return c.imageSize
            case .efficientNet(let c): return c.imageSize
            case .resNet(let c): return c.imageSize
            }
        }
        set {
            switch self {
            case .vit(var c): c.imageSize = newValue; self = .vit(c)
            case .efficientNet(var c): c.imageSize = newValue; self = .efficientNet(c)
            case .resNet(var c): c.imageSize = newValue; self = .resNet(c)
            }
        }
    }

    /// Which output becomes the pooled vector: a ViT's class token (after its final norm, unless it
    /// has none), EfficientNet's feature-map mean, ModifiedResNet's attention pool.
    public var pooling: ModelPreprocessing.ImagePoolingRule {
        switch self {
        case .vit(let c): return c.postLayerNorm ? .classToken : .classTokenBeforeNorm
        case .efficientNet: return .average
        case .resNet: return .attentionPool
        }
    }

    /// The pixel statistics the tower's pretrained weights expect: CLIP's for a ViT or ResNet (CLIP,
    /// Chinese-CLIP, R2D2), ImageNet's for EfficientNet (a torchvision-style classifier).
    public var inputNormalization: Normalization {
        switch self {
        case .vit, .resNet: return .clip
        case .efficientNet: return .imagenet
        }
    }

    /// Width of the tower's pooled vector and token states (what projections and cross encoders take).
    public var width: Int {
        switch self {
        case .vit(let c): return c.width
        case .efficientNet(let c): return c.network.headChannels
        case .resNet(let c): return c.outputDim
        }
    }

    /// A new tower with this shape, without any projection of its own (the dual encoder adds one).
    public func makeTower() throws -> any ImageTower {
        switch self {
        case .vit(var c):
            c.projectionDim = 0
            return try VisionTransformer(c)
        case .efficientNet(let c):
            return try EfficientNet(c.network)
        case .resNet(let c):
            return try ModifiedResNet(c)
        }
    }

    public func validate(source: String) throws {
        switch self {
        case .vit(let c): try c.validate(source: source)
        case .efficientNet(let c): try c.validate(source: source)
        case .resNet(let c): try c.validate(source: source)
        }
    }

    enum CodingKeys: String, CodingKey { case kind }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decodeIfPresent(String.self, forKey: .kind) ?? Kind.vit.rawValue
        guard let kind = Kind(rawValue: name) else {
            throw DecodingError.dataCorruptedError(forKey: .kind, in: container,
                                                   debugDescription: "vision kind \"\(name)\" is not known (allowed: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        switch kind {
        case .vit: self = .vit(try VisionTransformerConfiguration(from: decoder))
        case .efficientNet: self = .efficientNet(try EfficientNetTowerConfiguration(from: decoder))
        case .resNet: self = .resNet(try ModifiedResNetConfiguration(from: decoder))
        }
    }

    /// A ViT is written without `kind`, exactly as before towers had kinds.
    public func encode(to encoder: Encoder) throws {
        switch self {
        case .vit(let c):
            try c.encode(to: encoder)
        case .efficientNet(let c):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(Kind.efficientNet.rawValue, forKey: .kind)
            try c.encode(to: encoder)
        case .resNet(let c):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(Kind.resNet.rawValue, forKey: .kind)
            try c.encode(to: encoder)
        }
    }
}
