/// Batch normalisation over [N, C, H, W]. In eval mode it uses the running statistics (the
/// inference use: pretrained CNN towers); in training mode it normalises by the batch and
/// updates them, as PyTorch does.
public final class BatchNorm2d: Module, UnaryLayer {
    @Parameter public var weight: Tensor
    @Parameter public var bias: Tensor
    @Buffer(key: "running_mean") public var runningMean: Tensor
    @Buffer(key: "running_var") public var runningVariance: Tensor
    @Buffer(key: "num_batches_tracked") public var batchesTracked: Tensor
    public let eps: Double
    public let momentum: Double

    public init(_ features: Int, eps: Double = 1e-5, momentum: Double = 0.1) throws {
        weight = try Tensor.ones([features])
        bias = try Tensor.zeros([features])
        _runningMean.wrappedValue = try Tensor.zeros([features])
        _runningVariance.wrappedValue = try Tensor.ones([features])
        _batchesTracked.wrappedValue = try Tensor.zeros([], dtype: .int64)
        self.eps = eps
        self.momentum = momentum
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        if isTraining { try withNoGrad { try batchesTracked.add_(1) } }
        return try Functional.batchNorm(x, runningMean: runningMean, runningVariance: runningVariance, weight: weight, bias: bias,
                                        training: isTraining, momentum: momentum, eps: eps)
    }
}
