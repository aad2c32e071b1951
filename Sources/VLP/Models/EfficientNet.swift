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

/// ALIGN's image tower: `pooled` is the average-pooled head features; `states` are that pooled
/// vector followed by the head feature map's positions, row by row. A patch mask hides the
/// pixels of each masked feature-map cell (zero after normalisation: the mean colour), so FgD's
/// student sees a masked image as a ViT's does.
extension EfficientNet: ImageTower {
    public var width: Int { configuration.headChannels }
    public var imageSize: Int { configuration.imageSize }

    /// The head feature map's size: every stride-2 layer halves a side, rounding up ("same" padding).
    public func patchGrid(height: Int, width: Int) -> (rows: Int, columns: Int) {
        let strides = [2] + configuration.blocks.map(\.stride)
        return strides.filter { $0 > 1 }.reduce((height, width)) { size, s in ((size.0 + s - 1) / s, (size.1 + s - 1) / s) }
    }

    public func encode(_ images: Tensor, patchMask: Tensor?) throws -> ImageTowerOutput {
        var input = images
        if let patchMask { input = try images * visiblePixels(patchMask, images: images) }
        let map = try featureMap(input)  // [B, C, h, w]
        let pooled = try map.mean(dims: [2, 3])
        let positions = try map.flattened(startDim: 2).transposed(1, 2)  // [B, h·w, C]
        return ImageTowerOutput(pooled: pooled, states: try cat([pooled.unsqueezed(dim: 1), positions], dim: 1))
    }

    /// lukemelas EfficientNet-PyTorch keys; a classifier (`_fc.*`) this tower lacks is left out.
    public func loadInitialWeights(from url: URL) throws -> PretrainedLoadSummary {
        var tensors = try CheckpointFile.read(url)
        var ignored: [String] = []
        if classifier == nil {
            for key in tensors.keys where key.hasPrefix("_fc.") {
                tensors.removeValue(forKey: key)
                ignored.append(key)
            }
        }
        try loadStateDict(tensors, strict: true, source: url.path)
        return PretrainedLoadSummary(source: url.path, prefix: "", ignoredKeys: ignored.sorted())
    }
}
