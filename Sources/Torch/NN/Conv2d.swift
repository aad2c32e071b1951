/// 2-D convolution over [N, C, H, W] (`weight` [out, in/groups, kh, kw]).
public final class Conv2d: Module, UnaryLayer {
    @Parameter public var weight: Tensor
    @Parameter public var bias: Tensor?
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    public let dilation: (Int, Int)
    public let groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true) throws {
        guard groups > 0, inChannels % groups == 0, outChannels % groups == 0 else {
            throw TorchError("Conv2d", "channels \(inChannels)→\(outChannels) are not divisible by groups \(groups)")
        }
        let fanIn = inChannels / groups * kernelSize.0 * kernelSize.1
        weight = try Initialization.fanInUniform([outChannels, inChannels / groups, kernelSize.0, kernelSize.1], fanIn: fanIn)
        self.bias = bias ? try Initialization.fanInUniform([outChannels], fanIn: fanIn) : nil
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        super.init()
    }

    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                            groups: Int = 1, bias: Bool = true) throws {
        try self.init(inChannels, outChannels, kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
                      padding: (padding, padding), groups: groups, bias: bias)
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try Functional.conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}
