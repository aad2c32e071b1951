/// Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay, as
/// `torch.optim.SGD`: g ← g + λθ; b ← μb + (1−τ)g (b = g at the first step); θ ← θ − lr·(g + μb if
/// Nesterov else b).
public final class SGD: Optimizer {
    public var learningRate: Double
    public let momentum: Double
    public let dampening: Double
    public let weightDecay: Double
    public let nesterov: Bool
    public private(set) var groups: [ParameterGroup]
    private var buffers: [Tensor?]

    public init(_ groups: [ParameterGroup], learningRate: Double, momentum: Double = 0, dampening: Double = 0,
                weightDecay: Double = 0, nesterov: Bool = false) {
        self.groups = groups
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        buffers = Array(repeating: nil, count: groups.reduce(0) { $0 + $1.parameters.count })
    }

    public convenience init(_ parameters: [Tensor], learningRate: Double, momentum: Double = 0, dampening: Double = 0,
                            weightDecay: Double = 0, nesterov: Bool = false) {
        self.init([ParameterGroup(parameters)], learningRate: learningRate, momentum: momentum, dampening: dampening,
                  weightDecay: weightDecay, nesterov: nesterov)
    }

    public func step() throws {
        try withNoGrad {
            for (i, group, p) in indexedParameters {
                guard var g = p.grad else { continue }
                let decay = group.weightDecay ?? weightDecay
                if decay != 0 { g = try g + p * decay }
                if momentum != 0 {
                    let buffer: Tensor
                    if let existing = buffers[i] {
                        buffer = existing
                        try buffer.mul_(momentum)
                        try buffer.add_(g, alpha: 1 - dampening)
                    } else {
                        buffer = try g.clone()
                        buffers[i] = buffer
                    }
                    g = nesterov ? try g + buffer * momentum : buffer
                }
                try p.add_(g, alpha: -learningRate * group.learningRateScale)
            }
        }
    }

    public func stateDict() throws -> [String: Tensor] {
        var state: [String: Tensor] = [:]
        for (i, _, _) in indexedParameters { if let b = buffers[i] { state["\(i).momentum_buffer"] = b } }
        return state
    }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        for (i, _, p) in indexedParameters where state["\(i).momentum_buffer"] != nil {
            let b = try Tensor.zeros(like: p)
            try restoreState(state, "\(i).momentum_buffer", into: b)
            buffers[i] = b
        }
    }
}
