import Foundation

/// `vision` with `"kind": "resnet"`: CLIP's ModifiedResNet image tower (OpenAI's RN50 / RN101 /
/// RN50x4…, Chinese-CLIP's RN50), its attention pool's output the image embedding. Keys:
/// `image_size` (a multiple of 32: the tower downsamples 32×), `layers` (bottlenecks in each of the
/// four stages, RN50: [3, 4, 6, 3]), `width` (the stem's width, 64 for RN50; the last stage is
/// 32 × width wide), `heads` (the attention pool's, OpenAI's convention 32 · width / 64),
/// `output_dim` (the attention pool's output, CLIP's embed dim).
public struct ModifiedResNetConfiguration: Codable, Equatable, Sendable {
    public var imageSize: Int
    public var layers: [Int]
    public var width: Int
    public var heads: Int
    public var outputDim: Int

    public init(imageSize: Int, layers: [Int], width: Int, heads: Int, outputDim: Int) {
        self.imageSize = imageSize
        self.layers = layers
        self.width = width
        self.heads = heads
        self.outputDim = outputDim
    }

    /// Channels of the last stage, what the attention pool reads: 4 (bottleneck expansion) × 8 × width.
    public var poolWidth: Int { width * 32 }
    /// Rows (and columns) of the last stage's feature map.
    public var gridSize: Int { imageSize / 32 }

    public func validate(source: String) throws {
        func fail(_ reason: String) -> ModelError { .invalidConfiguration(source: source, reason: reason) }
        guard imageSize > 0, imageSize % 32 == 0 else { throw fail("vision.image_size \(imageSize) must be a positive multiple of 32 (a ResNet tower downsamples 32×)") }
        guard layers.count == 4, layers.allSatisfy({ $0 > 0 }) else { throw fail("vision.layers \(layers) must be four positive block counts") }
        guard width > 0, width % 2 == 0 else { throw fail("vision.width \(width) must be positive and even (the stem's first convolutions are width / 2 wide)") }
        guard heads > 0, poolWidth % heads == 0 else { throw fail("vision.heads \(heads) must divide the attention pool's width \(poolWidth)") }
        guard outputDim > 0 else { throw fail("vision.output_dim must be positive") }
    }

    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size", layers, width, heads, outputDim = "output_dim"
    }
}
