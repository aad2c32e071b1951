/// Scales gradients so that their global L2 norm is at most `maxNorm` (clip_grad_norm_).
/// Returns the norm before clipping; a non-finite norm is returned untouched so the caller can
/// skip the step.
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Double) throws -> Double {
    let grads = parameters.compactMap(\.grad)
    guard !grads.isEmpty else { return 0 }
    return try withNoGrad {
        let norms = try grads.map { try $0.norm(2).to(.float32) }
        let total = try stack(norms).norm(2).item()
        guard total.isFinite else { return total }
        let scale = maxNorm / (total + 1e-6)
        if scale < 1 { for g in grads { try g.mul_(scale) } }
        return total
    }
}

/// Counts micro-batches so the optimizer steps once every `steps` of them; the caller scales
/// each micro-batch loss by `lossScale`.
public struct GradientAccumulation: Sendable {
    public let steps: Int
    public private(set) var microStep = 0

    public init(steps: Int) { self.steps = max(1, steps) }

    public var lossScale: Double { 1 / Double(steps) }

    /// Records one micro-batch; true when the optimizer should step now.
    public mutating func recordMicroBatch() -> Bool {
        microStep += 1
        if microStep == steps { microStep = 0; return true }
        return false
    }
}
