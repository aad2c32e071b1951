/// `y = x·Wᵀ + b`, with PyTorch's parameter names (`weight` [out, in], `bias` [out]).
public final class Linear: Module, UnaryLayer {
    @Parameter public var weight: Tensor
    @Parameter public var bias: Tensor?

    public init(_ inputSize: Int, _ outputSize: Int, bias: Bool = true) throws {
        weight = try Initialization.fanInUniform([outputSize, inputSize], fanIn: inputSize)
        self.bias = bias ? try Initialization.fanInUniform([outputSize], fanIn: inputSize) : nil
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try Functional.linear(x, weight: weight, bias: bias)
    }
}
