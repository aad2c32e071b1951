import Foundation
import Torch

/// A bottleneck block of CLIP's ModifiedResNet: 1×1 → 3×3 → 1×1 (×4 channels) convolutions, each
/// batch-normalised, ReLU between; a stride-s block downsamples by an s × s average pool after the
/// 3×3 convolution (anti-aliased, unlike torchvision's strided convolution), and its shortcut by an
/// average pool before a 1×1 convolution. Keys as OpenAI's: `conv1`, `bn1`, `conv2`, `bn2`,
/// `conv3`, `bn3`, `downsample.0` (convolution), `downsample.1` (norm).
public final class ResNetBottleneck: Module {
    public static let expansion = 4

    @Child(key: "conv1") var conv1: Conv2d
    @Child(key: "bn1") var bn1: BatchNorm2d
    @Child(key: "conv2") var conv2: Conv2d
    @Child(key: "bn2") var bn2: BatchNorm2d
    @Child(key: "conv3") var conv3: Conv2d
    @Child(key: "bn3") var bn3: BatchNorm2d
    @Child(key: "downsample") var downsample: ResNetShortcut?
    public let stride: Int

    public init(inputChannels: Int, planes: Int, stride: Int) throws {
        let output = planes * Self.expansion
        _conv1.wrappedValue = try Conv2d(inputChannels, planes, kernelSize: 1, bias: false)
        _bn1.wrappedValue = try BatchNorm2d(planes)
        _conv2.wrappedValue = try Conv2d(planes, planes, kernelSize: 3, padding: 1, bias: false)
        _bn2.wrappedValue = try BatchNorm2d(planes)
        _conv3.wrappedValue = try Conv2d(planes, output, kernelSize: 1, bias: false)
        _bn3.wrappedValue = try BatchNorm2d(output)
        _downsample.wrappedValue = stride > 1 || inputChannels != output
            ? try ResNetShortcut(inputChannels: inputChannels, outputChannels: output, stride: stride) : nil
        self.stride = stride
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        var out = try bn1(conv1(x)).relu()
        out = try bn2(conv2(out)).relu()
        if stride > 1 { out = try Functional.averagePool2d(out, kernelSize: stride) }
        out = try bn3(conv3(out))
        let identity = try downsample?(x) ?? x
        return try (out + identity).relu()
    }
}

/// The shortcut of a bottleneck that changes the shape: average pool (`downsample.-1`, no
/// weights), 1×1 convolution (`downsample.0`), batch norm (`downsample.1`).
public final class ResNetShortcut: Module {
    @Child(key: "0") var convolution: Conv2d
    @Child(key: "1") var norm: BatchNorm2d
    public let stride: Int

    public init(inputChannels: Int, outputChannels: Int, stride: Int) throws {
        _convolution.wrappedValue = try Conv2d(inputChannels, outputChannels, kernelSize: 1, bias: false)
        _norm.wrappedValue = try BatchNorm2d(outputChannels)
        self.stride = stride
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let pooled = stride > 1 ? try Functional.averagePool2d(x, kernelSize: stride) : x
        return try norm(convolution(pooled))
    }
}
