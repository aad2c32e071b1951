import Torch

/// A gather that all-gathers each tensor once per step. GCPR, CMCL, TgD and FGR read the same
/// features and image ids; on several workers each would otherwise run its own all-gather of
/// them. One is made for each loss computation and dropped after it, so nothing outlives the
/// step. A tensor gathered twice is the same object (its identity is the key), and the first
/// result, with its gradient hook, serves every later caller: the backward pass then all-reduces
/// the summed gradient once, as the sum of the separate gathers' would be. A gather under
/// `withNoGrad` records no graph, so a tensor that requires gradients is kept apart by whether
/// they were on (ids and detached features have no graph to record either way).
final class StepGather: FeatureGather {
    private struct Key: Hashable {
        let tensor: ObjectIdentifier
        let recordsGraph: Bool
    }

    private let base: FeatureGather
    /// The local tensor is kept with its result so that its identity cannot be reused by a new
    /// tensor within the step.
    private var gathered: [Key: (local: Tensor, all: Tensor, offset: Int)] = [:]

    init(_ base: FeatureGather) {
        self.base = base
    }

    func gather(_ local: Tensor) throws -> (all: Tensor, offset: Int) {
        let key = Key(tensor: ObjectIdentifier(local), recordsGraph: isGradEnabled && local.requiresGrad)
        if let hit = gathered[key] { return (hit.all, hit.offset) }
        let result = try base.gather(local)
        gathered[key] = (local, result.all, result.offset)
        return result
    }
}
