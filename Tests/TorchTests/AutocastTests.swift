import XCTest
@testable import Torch

/// libtorch's autocast as `withAutocast` exposes it, with the shim's fp32 policy (softmax,
/// log-softmax, layer norm, norm and attention scores in float32 under autocast).
final class AutocastTests: TorchTestCase {
    func testProductsRunInBFloat16AndTheFP32PolicyHolds() throws {
        manualSeed(1)
        let x = try Tensor.randn([4, 8]), weight = try Tensor.randn([8, 8]), gamma = try Tensor.ones([8])
        XCTAssertFalse(isAutocastEnabled(on: .cpu))
        try withAutocast(on: .cpu, dtype: .bfloat16) {
            XCTAssertTrue(isAutocastEnabled(on: .cpu))
            let y = try Functional.linear(x, weight: weight)
            XCTAssertEqual(y.dtype, .bfloat16, "a product computes in bf16")
            XCTAssertEqual(try Functional.layerNorm(y, normalizedShape: [8], weight: gamma).dtype, .float32)
            XCTAssertEqual(try y.softmax(dim: -1).dtype, .float32)
            XCTAssertEqual(try y.logSoftmax(dim: -1).dtype, .float32)
            XCTAssertEqual(try Functional.normalize(y).dtype, .float32)
            // Attention with a boolean mask: float's lowest fill needs fp32 scores.
            let q = try y.reshaped([1, 1, 4, 8])
            let mask = try Tensor([1, 1, 0, 1], shape: [1, 1, 1, 4]).to(.bool)
            let attended = try Functional.scaledDotProductAttention(query: q, key: q, value: q, mask: mask, returnWeights: true)
            XCTAssertEqual(attended.weights?.dtype, .float32)
            XCTAssertTrue(try attended.output.isFinite().all())
        }
        XCTAssertFalse(isAutocastEnabled(on: .cpu), "the region restores the previous setting")
        XCTAssertEqual(try Functional.linear(x, weight: weight).dtype, .float32)
    }

    func testRegionsNestAndRestore() throws {
        try withAutocast(on: .cpu, dtype: .bfloat16) {
            try withAutocast(on: .cpu, dtype: .bfloat16) { XCTAssertTrue(isAutocastEnabled(on: .cpu)) }
            XCTAssertTrue(isAutocastEnabled(on: .cpu), "leaving the inner region keeps the outer one on")
        }
        XCTAssertFalse(isAutocastEnabled(on: .cpu))
    }

    func testFloat16OnTheCPUIsAnError() {
        XCTAssertThrowsError(try withAutocast(on: .cpu, dtype: .float16) {}) { error in
            XCTAssertTrue("\(error)".contains("bfloat16 only"), "\(error)")
        }
        XCTAssertThrowsError(try withAutocast(on: .cpu, dtype: .float32) {}) { error in
            XCTAssertTrue("\(error)".contains("bfloat16 or float16"), "\(error)")
        }
        XCTAssertFalse(isAutocastEnabled(on: .cpu))
    }

    /// Gradients reach fp32 parameters in fp32 and stay close to the fp32 forward's.
    func testBackwardGivesFP32GradientsCloseToFP32() throws {
        manualSeed(2)
        let x = try Tensor.randn([16, 32])
        let weight = try (Tensor.randn([32, 32]) * 0.2).requiringGrad()
        let target = try Tensor.randint(0, 32, [16])
        func gradient(_ precision: DType?) throws -> Tensor {
            weight.zeroGrad()
            let loss = try precision.map { dtype in
                try withAutocast(on: .cpu, dtype: dtype) { try Functional.crossEntropy(Functional.linear(x, weight: weight), target) }
            } ?? Functional.crossEntropy(Functional.linear(x, weight: weight), target)
            XCTAssertEqual(loss.dtype, .float32)
            try loss.backward()
            return try XCTUnwrap(weight.grad).clone()
        }
        let full = try gradient(nil), mixed = try gradient(.bfloat16)
        XCTAssertEqual(mixed.dtype, .float32)
        let relative = try (mixed - full).norm(2).item() / full.norm(2).item()
        XCTAssertLessThan(relative, 2e-2, "bf16 keeps 8 bits of mantissa")
        XCTAssertGreaterThan(relative, 0, "autocast changed nothing: the comparison could not fail")
    }
}

final class GradientScalerTests: TorchTestCase {
    func testOverflowSkipsAndBacksOffThenTheScaleGrows() throws {
        let p = try Tensor.zeros([3]).requiringGrad()
        var scaler = GradientScaler(scale: 8, growthInterval: 2)
        try scaler.scaled(try (p * Tensor([1, 2, 3], shape: [3])).sum()).backward()
        XCTAssertTrue(try scaler.unscaleGradients([p]))
        XCTAssertEqual(try XCTUnwrap(p.grad).toArray(Float.self), [1, 2, 3], "gradients are divided by the scale")
        scaler.update(finite: true)
        XCTAssertEqual(scaler.scale, 8)
        scaler.update(finite: true)
        XCTAssertEqual(scaler.scale, 16, "grows after growthInterval good steps")
        try p.setGrad(try Tensor([1, Float.infinity, 3] as [Float], shape: [3]))
        XCTAssertFalse(try scaler.unscaleGradients([p]))
        XCTAssertEqual(try XCTUnwrap(p.grad).toArray(Float.self)[0], 1, "an overflowed step's gradients are left alone")
        scaler.update(finite: false)
        XCTAssertEqual(scaler.scale, 8)
        XCTAssertEqual(scaler.skippedSteps, 1)
        XCTAssertEqual(scaler.goodSteps, 0)
        try p.setGrad(try Tensor([Float.nan, 0, 0] as [Float], shape: [3]))
        XCTAssertFalse(try scaler.unscaleGradients([p]), "NaN counts as overflow")
    }

    func testRestoreChecksItsValues() throws {
        var scaler = GradientScaler()
        try scaler.restore(scale: 1024, goodSteps: 7, skippedSteps: 2)
        XCTAssertEqual([scaler.scale, Double(scaler.goodSteps), Double(scaler.skippedSteps)], [1024, 7, 2])
        XCTAssertThrowsError(try scaler.restore(scale: .infinity, goodSteps: 0, skippedSteps: 0))
        XCTAssertThrowsError(try scaler.restore(scale: 0, goodSteps: 0, skippedSteps: 0))
    }
}
