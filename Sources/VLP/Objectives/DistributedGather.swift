import Torch

/// The gather of a global loss across data-parallel workers: all-gather with gradient
/// through c10d, so GCPR's candidates, FGR's hard negatives and TgD's queue see every worker's
/// batch. Local batch sizes must be equal on every rank.
public struct DistributedGather: FeatureGather {
    public let group: ProcessGroup

    public init(group: ProcessGroup) {
        self.group = group
    }

    public func gather(_ local: Tensor) throws -> (all: Tensor, offset: Int) {
        let all = local.requiresGrad ? try group.allGatherWithGradient(local) : try group.allGather(local)
        return (all, group.rank * local.size(0))
    }
}
