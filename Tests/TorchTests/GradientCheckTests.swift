import XCTest
@testable import Torch

/// Finite-difference checks (float64, central differences) of autograd's gradients for every
/// op in the parity table, for the layers and for the losses.
final class GradientCheckTests: TorchTestCase {
    func testEveryOpMatchesFiniteDifferences() throws {
        var failures: [String] = []
        for (name, op) in OpParityTests.cases.sorted(by: { $0.key < $1.key }) {
            failures += try GradientCheck.check(name, op, OpParityTests.inputs(name))
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
        var failures = try GradientCheck.check("MultiHeadAttention", { try attention($0[0], keyPaddingMask: padding) }, [x])
        failures += try GradientCheck.check("TransformerEncoderLayer", { try encoder($0[0], keyPaddingMask: padding) }, [x])
        failures += try GradientCheck.check("Conv2d", { try conv($0[0]) }, [try Tensor.randn([1, 2, 4, 4], dtype: .float64)])
        XCTAssertEqual(failures, [])
    }
}
