/// Finite-difference checks of autograd gradients (central differences, float64), for tests of
/// every differentiable piece: compares autograd with (f(x+h) − f(x−h)) / 2h on up to `samples`
/// coordinates of each floating-point input, where f = Σ op(inputs) · upstream for a fixed
/// random `upstream`. Returns one line per disagreement (empty when all agree).
public enum GradientCheck {
    public static func check(_ name: String, _ op: ([Tensor]) throws -> Tensor, _ inputs: [Tensor], samples: Int = 6,
                             h: Double = 1e-6, tolerance: Double = 1e-5, seed: UInt64 = 7) throws -> [String] {
        var failures: [String] = []
        let inputs = try inputs.map { try $0.dtype.isFloatingPoint ? $0.to(.float64).clone().detached() : $0 }
        manualSeed(seed)
        let shape = try op(inputs).shape
        let upstream = try Tensor.randn(shape, dtype: .float64)
        func f(_ xs: [Tensor]) throws -> Double { try (op(xs) * upstream).sum().item() }
        for (i, input) in inputs.enumerated() where input.dtype.isFloatingPoint {
            var tracked = inputs
            tracked[i] = try input.clone().detached().requiringGrad()
            try (op(tracked) * upstream).sum().backward()
            guard let grad = try tracked[i].grad?.toArray(Double.self) else {
                failures.append("\(name): no gradient for input \(i)")
                continue
            }
            let values = try input.toArray(Double.self)
            let step = Swift.max(1, values.count / samples)
            for k in stride(from: 0, to: values.count, by: step) {
                var plus = values, minus = values
                plus[k] += h
                minus[k] -= h
                var xsPlus = inputs, xsMinus = inputs
                xsPlus[i] = try Tensor(plus, shape: input.shape)
                xsMinus[i] = try Tensor(minus, shape: input.shape)
                let numeric = (try f(xsPlus) - f(xsMinus)) / (2 * h)
                if Swift.abs(numeric - grad[k]) > tolerance * (1 + Swift.abs(numeric)) {
                    failures.append("\(name) input \(i)[\(k)]: autograd \(grad[k]), finite difference \(numeric)")
                }
            }
        }
        return failures
    }
}
