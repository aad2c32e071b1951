import Torch

/// How a worker sees the features of every worker for a global loss. On one process it is the
/// identity; the distributed implementation all-gathers with gradient (forward: all-gather;
/// backward: all-reduce the gradient and keep the local slice).
public protocol FeatureGather {
    /// All workers' rows concatenated along dimension 0, and where this worker's rows start.
    func gather(_ local: Tensor) throws -> (all: Tensor, offset: Int)
}

/// The single-process gather.
public struct LocalGather: FeatureGather {
    public init() {}
    public func gather(_ local: Tensor) throws -> (all: Tensor, offset: Int) { (local, 0) }
}
