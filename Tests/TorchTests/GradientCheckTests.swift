import XCTest
@testable import Torch

/// Finite-difference checks (float64, central differences) of autograd's gradients for every
/// op in the parity table, for the layers and for the losses.
final class GradientCheckTests: XCTestCase {
    /// Compares autograd with (f(x+h) − f(x−h)) / 2h on up to `samples` coordinates of each float input,
    /// where f = Σ op(inputs) · upstream.
    static func check(_ name: String, _ op: ([Tensor]) throws -> Tensor, _ inputs: [Tensor], samples: Int = 6,
                      h: Double = 1e-6, tolerance: Double = 1e-5) throws -> [String] {
        var failures: [String] = []
        let inputs = try inputs.map { try $0.dtype.isFloatingPoint ? $0.to(.float64).clone().detached() : $0 }
        manualSeed(7)
        let shape = try op(inputs).shape
        let upstream = try Tensor.randn(shape, dtype: .float64)
        func f(_ xs: [Tensor]) throws -> Double { try (op(xs) * upstream).sum().item() }
        for (i, input) in inputs.enumerated() where input.dtype.isFloatingPoint {
            let tracked = inputs.enumerated().map { $0.offset == i ? (try? input.clone().detached().requiringGrad()) ?? input : $0.element }
            try (op(tracked) * upstream).sum().backward()
            guard let grad = try tracked[i].grad?.toArray(Double.self) else { failures.append("\(name): no grad for input \(i)"); continue }
            let values = try input.toArray(Double.self)
            let step = max(1, values.count / samples)
            for k in stride(from: 0, to: values.count, by: step) {
                var plus = values, minus = values
                plus[k] += h
                minus[k] -= h
                var xsPlus = inputs, xsMinus = inputs
                xsPlus[i] = try Tensor(plus, shape: input.shape)
                xsMinus[i] = try Tensor(minus, shape: input.shape)
                let numeric = (try f(xsPlus) - f(xsMinus)) / (2 * h)
                if abs(numeric - grad[k]) > tolerance * (1 + abs(numeric)) {
                    failures.append("\(name) input \(i)[\(k)]: autograd \(grad[k]), finite difference \(numeric)")
                }
            }
        }
        return failures
    }

    func testEveryOpMatchesFiniteDifferences() throws {
        var failures: [String] = []
        for (name, op) in OpParityTests.cases.sorted(by: { $0.key < $1.key }) {
            failures += try Self.check(name, op, OpParityTests.inputs(name))
        }
        XCTAssertEqual(failures, [])
    }

    func testLayersMatchFiniteDifferences() throws {
        manualSeed(3)
        let attention = try MultiHeadAttention(dimension: 8, heads: 2)
        let encoder = try TransformerEncoderLayer(dimension: 8, heads: 2, feedForward: 16, dropout: 0, normFirst: false)
        let conv = try Conv2d(2, 3, kernelSize: 3, padding: 1)
        for m in [attention, encoder, conv] as [Module] {
            m.eval()
            try m.to(.cpu, dtype: .float64)
        }
        let x = try Tensor.randn([2, 3, 8], dtype: .float64)
        let padding = try Tensor([false, false, false, false, false, true], shape: [2, 3])
        var failures = try Self.check("MultiHeadAttention", { try attention($0[0], keyPaddingMask: padding) }, [x])
        failures += try Self.check("TransformerEncoderLayer", { try encoder($0[0], keyPaddingMask: padding) }, [x])
        failures += try Self.check("Conv2d", { try conv($0[0]) }, [try Tensor.randn([1, 2, 4, 4], dtype: .float64)])
        XCTAssertEqual(failures, [])
    }
}
