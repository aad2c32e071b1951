/// Parameters that share optimizer settings. `weightDecay` nil means the optimizer's default.
public struct ParameterGroup {
    public var parameters: [Tensor]
    public var weightDecay: Double?
    /// Multiplies the optimizer's learning rate for this group.
    public var learningRateScale: Double

    public init(_ parameters: [Tensor], weightDecay: Double? = nil, learningRateScale: Double = 1) {
        self.parameters = parameters
        self.weightDecay = weightDecay
        self.learningRateScale = learningRateScale
    }

    /// Weight decay on matrices and embeddings (rank ≥ 2), none on biases and norm gains
    /// (rank < 2) — the rule of BERT, CLIP and nanoGPT. Frozen parameters are left out.
    ///
    /// Two groups per learning-rate scale, in the order the scales first appear (layer-wise
    /// decay gives each depth its own); with every scale 1 (the default), exactly two groups.
    public static func decayingMatricesOnly(_ named: [(name: String, tensor: Tensor)], weightDecay: Double,
                                            learningRateScale: (_ name: String, _ tensor: Tensor) -> Double = { _, _ in 1 }) -> [ParameterGroup] {
        var scales: [Double] = []
        var members: [Double: [Tensor]] = [:]
        for (name, tensor) in named where tensor.requiresGrad {
            let scale = learningRateScale(name, tensor)
            if members[scale] == nil { scales.append(scale) }
            members[scale, default: []].append(tensor)
        }
        if scales.isEmpty { scales = [1] }
        return scales.flatMap { scale in
            let tensors = members[scale] ?? []
            return [ParameterGroup(tensors.filter { $0.rank >= 2 }, weightDecay: weightDecay, learningRateScale: scale),
                    ParameterGroup(tensors.filter { $0.rank < 2 }, weightDecay: 0, learningRateScale: scale)]
        }
    }
}

/// Updates parameters from their gradients.
public protocol Optimizer: AnyObject {
    var learningRate: Double { get set }
    var groups: [ParameterGroup] { get }
    /// One update of every parameter that has a gradient.
    func step() throws
    /// Per-parameter state (moments, step counts) under stable names, for checkpoints.
    func stateDict() throws -> [String: Tensor]
    func loadStateDict(_ state: [String: Tensor]) throws
}

extension Optimizer {
    /// Forgets every parameter's gradient.
    public func zeroGrad() {
        for group in groups { for p in group.parameters { p.zeroGrad() } }
    }

    /// Every parameter with its group, in a stable order used for state names.
    var indexedParameters: [(index: Int, group: ParameterGroup, parameter: Tensor)] {
        var result: [(Int, ParameterGroup, Tensor)] = []
        for group in groups { for p in group.parameters { result.append((result.count, group, p)) } }
        return result.map { (index: $0.0, group: $0.1, parameter: $0.2) }
    }
}

/// Restores one named state tensor, checking that it exists and fits.
func restoreState(_ state: [String: Tensor], _ name: String, into target: Tensor) throws {
    guard let source = state[name] else { throw TorchError("optimizer loadStateDict", "missing state \(name)") }
    guard source.shape == target.shape else {
        throw TorchError("optimizer loadStateDict", "state \(name) has shape \(source.shape), parameter needs \(target.shape)")
    }
    try withNoGrad { try target.copy_(source) }
}
