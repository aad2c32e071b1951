import CTorch
/// Adam with decoupled weight decay (Loshchilov & Hutter), as `torch.optim.AdamW`:
///   θ ← θ·(1 − lr·λ);  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
///   θ ← θ − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)
public final class AdamW: Optimizer {
    public var learningRate: Double
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    public let weightDecay: Double
    public private(set) var groups: [ParameterGroup]
    /// Steps taken (shared by all parameters; a parameter without a gradient still counts).
    public private(set) var stepCount = 0
    private var firstMoments: [Tensor?]
    private var secondMoments: [Tensor?]

    public init(_ groups: [ParameterGroup], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                eps: Double = 1e-8, weightDecay: Double = 0.01) {
        self.groups = groups
        self.learningRate = learningRate
        (beta1, beta2) = betas
        self.eps = eps
        self.weightDecay = weightDecay
        let n = groups.reduce(0) { $0 + $1.parameters.count }
        firstMoments = Array(repeating: nil, count: n)
        secondMoments = Array(repeating: nil, count: n)
    }

    public convenience init(_ parameters: [Tensor], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                            eps: Double = 1e-8, weightDecay: Double = 0.01) {
        self.init([ParameterGroup(parameters)], learningRate: learningRate, betas: betas, eps: eps, weightDecay: weightDecay)
    }

    /// Whether a step updates a group's parameters together with libtorch's multi-tensor kernels
    /// (`torch.optim.AdamW(foreach=True)`): a few kernel launches for all of them rather than
    /// several per parameter, which is what a GPU step of a small model waits on. nil (the
    /// default) does so for parameters on a GPU, as PyTorch does; the CPU gains nothing from it.
    public var foreach: Bool?

    public func step() throws {
        stepCount += 1
        let correction1 = 1 - Foundation.pow(beta1, Double(stepCount))
        let correction2 = 1 - Foundation.pow(beta2, Double(stepCount))
        try withNoGrad {
            var i = 0  // the parameter's index over all groups, as `indexedParameters` counts
            for group in groups {
                let lr = learningRate * group.learningRateScale
                let decay = group.weightDecay ?? weightDecay
                var together: [(p: Tensor, g: Tensor, m: Tensor, v: Tensor)] = []  // for the multi-tensor step
                for p in group.parameters {
                    defer { i += 1 }
                    guard let g = p.grad else { continue }
                    let m = try firstMoments[i] ?? Tensor.zeros(like: p)
                    let v = try secondMoments[i] ?? Tensor.zeros(like: p)
                    firstMoments[i] = m
                    secondMoments[i] = v
                    if foreach ?? (p.device != .cpu) {
                        together.append((p, g, m, v))
                        continue
                    }
                    if decay != 0 { try p.mul_(1 - lr * decay) }
                    try m.lerp_(g, weight: 1 - beta1)
                    try v.mul_(beta2)
                    try v.addcmul_(g, g, value: 1 - beta2)
                    let denominator = try v.sqrt() / correction2.squareRoot() + eps
                    try p.addcdiv_(m, denominator, value: -lr / correction1)
                }
                guard !together.isEmpty else { continue }
                let handles = { (tensors: [Tensor]) -> [vt_tensor?] in tensors.map { $0.handle } }
                try check(vt_adamw_foreach_step(handles(together.map(\.p)), handles(together.map(\.g)),
                                                handles(together.map(\.m)), handles(together.map(\.v)),
                                                together.count, lr, lr * decay, beta1, beta2, eps, correction1, correction2),
                          "AdamW multi-tensor step over \(together.count) parameters")
            }
        }
    }

    public func stateDict() throws -> [String: Tensor] {
        var state: [String: Tensor] = ["step": try Tensor([Int64(stepCount)], shape: [])]
        for (i, _, _) in indexedParameters {
            if let m = firstMoments[i] { state["\(i).exp_avg"] = m }
            if let v = secondMoments[i] { state["\(i).exp_avg_sq"] = v }
        }
        return state
    }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        guard let step = state["step"] else { throw TorchError("AdamW loadStateDict", "missing state step") }
        stepCount = try step.itemInt()
        for (i, _, p) in indexedParameters where state["\(i).exp_avg"] != nil {
            let m = try Tensor.zeros(like: p), v = try Tensor.zeros(like: p)
            try restoreState(state, "\(i).exp_avg", into: m)
            try restoreState(state, "\(i).exp_avg_sq", into: v)
            firstMoments[i] = m
            secondMoments[i] = v
        }
    }
}

import Foundation
