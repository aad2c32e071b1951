import Foundation
import Torch

/// An EfficientNet(-Lite) image encoder: stem convolution, MBConv stages, 1×1 head convolution,
/// global average pooling and an optional classifier. Used as ALIGN's image tower: the pooled
/// head features are the image embedding (before any projection).
///
/// Keys follow lukemelas' EfficientNet-PyTorch (`_conv_stem`, `_bn0`, `_blocks.N.…`,
/// `_conv_head`, `_bn1`, `_fc`), so the converted TensorFlow weights load strictly. Batch
/// norm uses running statistics in eval mode (call `eval()` for inference; `pretrained` does).
public final class EfficientNet: Module {
    @Child(key: "_conv_stem") public var stem: SamePaddingConv2d
    @Child(key: "_bn0") public var stemNorm: BatchNorm2d
    @Child(key: "_blocks") public var blocks: [MBConvBlock]
    @Child(key: "_conv_head") public var head: SamePaddingConv2d
    @Child(key: "_bn1") public var headNorm: BatchNorm2d
    @Child(key: "_fc") public var classifier: Linear?
    public let dropout: Dropout
    public let configuration: EfficientNetConfiguration

    public init(_ configuration: EfficientNetConfiguration) throws {
        let c = configuration
        try c.validate(source: "EfficientNet")
        _stem.wrappedValue = try SamePaddingConv2d(c.inputChannels, c.stemChannels, kernelSize: 3, stride: 2)
        _stemNorm.wrappedValue = try BatchNorm2d(c.stemChannels, eps: c.batchNormEps, momentum: 0.01)
        let specs = c.blocks
        _blocks.wrappedValue = try specs.enumerated().map { i, b in
            try MBConvBlock(input: b.input, output: b.output, stride: b.stride, kernelSize: b.kernelSize, expandRatio: b.expandRatio,
                            batchNormEps: c.batchNormEps, dropConnectRate: c.dropConnectRate * Double(i) / Double(specs.count))
        }
        _head.wrappedValue = try SamePaddingConv2d(specs.last!.output, c.headChannels, kernelSize: 1)
        _headNorm.wrappedValue = try BatchNorm2d(c.headChannels, eps: c.batchNormEps, momentum: 0.01)
        _classifier.wrappedValue = c.classes > 0 ? try Linear(c.headChannels, c.classes) : nil
        dropout = Dropout(c.dropout)
        self.configuration = c
        super.init()
    }

    /// The head's feature map [B, headChannels, H/32, W/32] of images [B, 3, H, W].
    public func featureMap(_ images: Tensor) throws -> Tensor {
        guard images.rank == 4, images.size(1) == configuration.inputChannels, images.dtype.isFloatingPoint else {
            throw ModelError.invalidInput(name: "images", reason: "expected float [batch, \(configuration.inputChannels), height, width], got \(images.dtype) \(images.shape)")
        }
        var x = try stemNorm(stem(images)).relu6()
        for block in blocks { x = try block(x) }
        return try headNorm(head(x)).relu6()
    }

    /// Globally average-pooled head features [B, headChannels]: the image embedding.
    public func pooledFeatures(_ images: Tensor) throws -> Tensor {
        try featureMap(images).mean(dims: [2, 3])
    }

    /// Class logits [B, classes].
    public func callAsFunction(_ images: Tensor) throws -> Tensor {
        guard let classifier else {
            throw ModelError.invalidInput(name: "classifier", reason: "this EfficientNet has no classifier (classes = 0); use pooledFeatures")
        }
        return try classifier(dropout(pooledFeatures(images)))
    }

    /// Loads a checkpoint (`.pth` / `.safetensors`) strictly into a new model for
    /// `configuration`, in eval mode.
    public static func pretrained(checkpoint url: URL, configuration: EfficientNetConfiguration = .lite0) throws -> EfficientNet {
        let tensors = try CheckpointFile.read(url)
        let model = try EfficientNet(configuration)
        try model.loadStateDict(tensors, strict: true, source: url.path)
        model.eval()
        return model
    }
}
