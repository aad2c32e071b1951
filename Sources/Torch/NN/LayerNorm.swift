/// Layer normalisation over the trailing dimensions, with learned `weight` and `bias`.
public final class LayerNorm: Module, UnaryLayer {
    @Parameter public var weight: Tensor?
    @Parameter public var bias: Tensor?
    public let normalizedShape: [Int]
    public let eps: Double

    public init(_ normalizedShape: [Int], eps: Double = 1e-5, elementwiseAffine: Bool = true) throws {
        self.normalizedShape = normalizedShape
        self.eps = eps
        weight = elementwiseAffine ? try Tensor.ones(normalizedShape) : nil
        bias = elementwiseAffine ? try Tensor.zeros(normalizedShape) : nil
        super.init()
    }

    public convenience init(_ dimension: Int, eps: Double = 1e-5) throws {
        try self.init([dimension], eps: eps)
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        try Functional.layerNorm(x, normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps)
    }
}
