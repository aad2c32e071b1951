import Foundation

/// `vision` with `"kind": "efficientnet"`: an EfficientNet image tower without its classifier,
/// its pooled head features the image embedding (ALIGN). Keys: `variant` ("lite0"), `image_size`,
/// `drop_connect_rate` (stochastic depth while training, default 0.2 as the variant was trained).
public struct EfficientNetTowerConfiguration: Codable, Equatable, Sendable {
    /// The published networks whose shapes (and weights) this tower can take.
    public enum Variant: String, CaseIterable, Sendable {
        /// EfficientNet-Lite0 (`EfficientNetConfiguration.lite0`).
        case lite0
    }

    public var variant: Variant
    /// Any size runs; the pretrained weights saw 224.
    public var imageSize: Int
    public var dropConnectRate: Double

    public init(variant: Variant = .lite0, imageSize: Int, dropConnectRate: Double = 0.2) {
        self.variant = variant
        self.imageSize = imageSize
        self.dropConnectRate = dropConnectRate
    }

    /// The network: the variant's stages, no classifier, this image size.
    public var network: EfficientNetConfiguration {
        var c: EfficientNetConfiguration
        switch variant {
        case .lite0: c = .lite0
        }
        c.classes = 0
        c.imageSize = imageSize
        c.dropConnectRate = dropConnectRate
        return c
    }

    public func validate(source: String) throws {
        guard imageSize > 0 else { throw ModelError.invalidConfiguration(source: source, reason: "image_size must be positive") }
        guard (0..<1).contains(dropConnectRate) else {
            throw ModelError.invalidConfiguration(source: source, reason: "drop_connect_rate \(dropConnectRate) is outside [0, 1)")
        }
        try network.validate(source: source)
    }

    enum CodingKeys: String, CodingKey {
        case variant, imageSize = "image_size", dropConnectRate = "drop_connect_rate"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let name = try c.decode(String.self, forKey: .variant)
        guard let variant = Variant(rawValue: name) else {
            throw DecodingError.dataCorruptedError(forKey: .variant, in: c,
                                                   debugDescription: "EfficientNet variant \"\(name)\" is not known (allowed: \(Variant.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self.init(variant: variant, imageSize: try c.decode(Int.self, forKey: .imageSize),
                  dropConnectRate: try c.decodeIfPresent(Double.self, forKey: .dropConnectRate) ?? 0.2)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(variant.rawValue, forKey: .variant)
        try c.encode(imageSize, forKey: .imageSize)
        try c.encode(dropConnectRate, forKey: .dropConnectRate)
    }
}
