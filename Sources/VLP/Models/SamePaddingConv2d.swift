import Torch

/// A 2-D convolution with TensorFlow's "SAME" padding: the output is ⌈input / stride⌉ per side,
/// and when the total padding is odd the extra row/column goes after (bottom/right). Models
/// trained in TensorFlow (EfficientNet and its ports) need this; PyTorch's symmetric padding
/// shifts every stride-2 layer by one pixel. Keys as `nn.Conv2d` (`weight`, optional `bias`).
public final class SamePaddingConv2d: Module, UnaryLayer {
    @Parameter public var weight: Tensor
    @Parameter public var bias: Tensor?
    public let stride: Int
    public let groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, groups: Int = 1, bias: Bool = false) throws {
        guard groups > 0, inChannels % groups == 0, outChannels % groups == 0 else {
            throw ModelError.invalidConfiguration(source: "SamePaddingConv2d",
                                                  reason: "channels \(inChannels)→\(outChannels) are not divisible by groups \(groups)")
        }
        let fanIn = inChannels / groups * kernelSize * kernelSize
        weight = try Initialization.fanInUniform([outChannels, inChannels / groups, kernelSize, kernelSize], fanIn: fanIn)
        self.bias = bias ? try Initialization.fanInUniform([outChannels], fanIn: fanIn) : nil
        self.stride = stride
        self.groups = groups
        super.init()
    }

    /// (before, after) padding of one spatial side of `size` pixels.
    public static func padding(size: Int, kernel: Int, stride: Int) -> (before: Int, after: Int) {
        let output = (size + stride - 1) / stride
        let total = Swift.max((output - 1) * stride + kernel - size, 0)
        return (total / 2, total - total / 2)
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let kernelHeight = weight.size(2), kernelWidth = weight.size(3)
        let h = Self.padding(size: x.size(-2), kernel: kernelHeight, stride: stride)
        let w = Self.padding(size: x.size(-1), kernel: kernelWidth, stride: stride)
        let padded = h == (0, 0) && w == (0, 0) ? x : try x.padded([w.before, w.after, h.before, h.after])
        return try Functional.conv2d(padded, weight: weight, bias: bias, stride: (stride, stride), groups: groups)
    }
}
