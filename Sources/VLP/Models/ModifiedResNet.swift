import Foundation
import Torch

/// CLIP's ModifiedResNet image tower (OpenAI's RN50 family, Chinese-CLIP's RN50): a three-
/// convolution stem (3×3, stride 2 then 1 then 1; batch norm and ReLU after each) and a 2 × 2
/// average pool, four stages of `ResNetBottleneck`s (the first of stages 2–4 downsampling by 2),
/// and an `AttentionPool2d` whose mean-token output is the image's vector. Keys are OpenAI's under
/// `visual.`: `conv1`…`bn3`, `layer1.N.*`…`layer4.N.*`, `attnpool.*`.
public final class ModifiedResNet: Module {
    @Child(key: "conv1") var conv1: Conv2d
    @Child(key: "bn1") var bn1: BatchNorm2d
    @Child(key: "conv2") var conv2: Conv2d
    @Child(key: "bn2") var bn2: BatchNorm2d
    @Child(key: "conv3") var conv3: Conv2d
    @Child(key: "bn3") var bn3: BatchNorm2d
    @Child(key: "layer1") var layer1: [ResNetBottleneck]
    @Child(key: "layer2") var layer2: [ResNetBottleneck]
    @Child(key: "layer3") var layer3: [ResNetBottleneck]
    @Child(key: "layer4") var layer4: [ResNetBottleneck]
    @Child(key: "attnpool") public var attentionPool: AttentionPool2d
    public let configuration: ModifiedResNetConfiguration

    /// The stage names, in order (the keys of the four bottleneck lists).
    static let stageKeys = ["layer1", "layer2", "layer3", "layer4"]

    public init(_ configuration: ModifiedResNetConfiguration) throws {
        let c = configuration
        try c.validate(source: "ModifiedResNet")
        let half = c.width / 2
        _conv1.wrappedValue = try Conv2d(3, half, kernelSize: 3, stride: 2, padding: 1, bias: false)
        _bn1.wrappedValue = try BatchNorm2d(half)
        _conv2.wrappedValue = try Conv2d(half, half, kernelSize: 3, padding: 1, bias: false)
        _bn2.wrappedValue = try BatchNorm2d(half)
        _conv3.wrappedValue = try Conv2d(half, c.width, kernelSize: 3, padding: 1, bias: false)
        _bn3.wrappedValue = try BatchNorm2d(c.width)
        var channels = c.width
        var stages: [[ResNetBottleneck]] = []
        for (index, blocks) in c.layers.enumerated() {
            let planes = c.width << index
            var stage: [ResNetBottleneck] = []
            for block in 0..<blocks {
                stage.append(try ResNetBottleneck(inputChannels: channels, planes: planes, stride: block == 0 && index > 0 ? 2 : 1))
                channels = planes * ResNetBottleneck.expansion
            }
            stages.append(stage)
        }
        (_layer1.wrappedValue, _layer2.wrappedValue, _layer3.wrappedValue, _layer4.wrappedValue) = (stages[0], stages[1], stages[2], stages[3])
        _attentionPool.wrappedValue = try AttentionPool2d(gridSize: c.gridSize, width: c.poolWidth, heads: c.heads, outputDim: c.outputDim)
        self.configuration = c
        super.init()
    }

    /// The bottlenecks of all four stages, in order.
    var blocks: [ResNetBottleneck] { layer1 + layer2 + layer3 + layer4 }

    /// The last stage's feature map [B, 32 · width, H / 32, W / 32].
    public func featureMap(_ images: Tensor) throws -> Tensor {
        var x = try bn1(conv1(images)).relu()
        x = try bn2(conv2(x)).relu()
        x = try bn3(conv3(x)).relu()
        x = try Functional.averagePool2d(x, kernelSize: 2)
        for block in blocks { x = try block(x) }
        return x
    }
}

extension ModifiedResNet: ImageTower {
    public var width: Int { configuration.outputDim }
    public var imageSize: Int { configuration.imageSize }

    /// The last stage's map: 32× smaller on each side (every stride rounds down).
    public func patchGrid(height: Int, width: Int) -> (rows: Int, columns: Int) { (height / 32, width / 32) }

    /// The attention pool's outputs: the mean token's is `pooled`, and `states` holds it and one
    /// per position of the last feature map, all `output_dim` wide. A patch mask zeroes the pixels
    /// of the masked cells, as for EfficientNet.
    public func encode(_ images: Tensor, patchMask: Tensor?) throws -> ImageTowerOutput {
        var input = images
        if let patchMask { input = try images * visiblePixels(patchMask, images: images) }
        let states = try attentionPool(featureMap(input))
        return ImageTowerOutput(pooled: try states.select(dim: 1, index: 0), states: states)
    }

    /// A CLIP ResNet tower is loaded with its whole model by `vlp import`; there is no separate
    /// pretrained checkpoint of the tower alone to start from.
    public func loadInitialWeights(from url: URL) throws -> PretrainedLoadSummary {
        throw ModelError.invalidCheckpoint(source: url.path, reason: "a resnet image tower takes its weights from `vlp import` of a whole CLIP model (cn-clip or open-clip RN50), not from a tower checkpoint")
    }
}

extension ModifiedResNet: BlockStack {
    public var blockCount: Int { blocks.count }

    /// The stem 0, the bottlenecks 1…L in order through the four stages, the attention pool L + 1.
    public func depth(ofParameter name: String) -> Int {
        var before = 0
        for (stage, key) in zip([layer1, layer2, layer3, layer4], Self.stageKeys) {
            let prefix = key + "."
            if name.hasPrefix(prefix), let index = Int(name.dropFirst(prefix.count).prefix { $0 != "." }) {
                return before + index + 1
            }
            before += stage.count
        }
        return name.hasPrefix("attnpool.") ? blockCount + 1 : 0
    }
}
