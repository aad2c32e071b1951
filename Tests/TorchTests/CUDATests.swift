import Foundation
import XCTest
@testable import Torch

/// What runs only where libtorch sees a GPU (scripts/gpu-check.sh runs this target there); on a
/// machine without one each test skips, saying why.
final class CUDATests: TorchTestCase {
    override func setUpWithError() throws {
        guard Device.isCUDAAvailable else { throw XCTSkip("no CUDA device") }
    }

    /// Products, reductions and attention on the GPU equal the CPU's within float32 rounding.
    func testOpsMatchTheCPU() throws {
        manualSeed(3)
        let x = try Tensor.randn([8, 16]), weight = try Tensor.randn([16, 16])
        let gpu = Device.cuda(0)
        let product = try Functional.linear(x.to(device: gpu), weight: weight.to(device: gpu))
        XCTAssertEqual(product.device, gpu)
        try assertClose(product.to(device: .cpu), Functional.linear(x, weight: weight), tolerance: 1e-4)
        try assertClose(product.softmax(dim: -1).to(device: .cpu), Functional.linear(x, weight: weight).softmax(dim: -1), tolerance: 1e-5)
        let q = try x.reshaped([1, 2, 4, 16])
        let onGPU = try Functional.scaledDotProductAttention(query: q.to(device: gpu), key: q.to(device: gpu), value: q.to(device: gpu), mask: nil)
        let onCPU = try Functional.scaledDotProductAttention(query: q, key: q, value: q, mask: nil)
        try assertClose(onGPU.output.to(device: .cpu), onCPU.output, tolerance: 1e-4)
    }

    /// bf16 autocast on the GPU: products in bf16, gradients reach fp32 parameters in fp32.
    func testAutocastOnTheGPU() throws {
        manualSeed(4)
        let gpu = Device.cuda(0)
        let x = try Tensor.randn([16, 32]).to(device: gpu)
        let weight = try (Tensor.randn([32, 32]) * 0.2).to(device: gpu).detached().requiringGrad()
        let target = try Tensor.randint(0, 32, [16]).to(device: gpu)
        let loss = try withAutocast(on: gpu, dtype: .bfloat16) {
            let logits = try Functional.linear(x, weight: weight)
            XCTAssertEqual(logits.dtype, .bfloat16)
            return try Functional.crossEntropy(logits, target)
        }
        XCTAssertEqual(loss.dtype, .float32)
        try loss.backward()
        XCTAssertEqual(weight.grad?.dtype, .float32)
        XCTAssertEqual(weight.grad?.device, gpu)
        XCTAssertTrue(try weight.grad!.isFinite().all())
    }

    /// Self-attention with a key-padding mask and an additive float mask together (the mask
    /// combination builds a tensor of its own, which must be made on the GPU), forward and
    /// backward, equals the CPU's.
    func testMaskedAttentionOnTheGPUEqualsTheCPU() throws {
        manualSeed(5)
        let gpu = Device.cuda(0)
        let attention = try MultiHeadAttention(dimension: 16, heads: 2)
        let x = try Tensor.randn([2, 5, 16])
        let padding = try Tensor([false, false, false, true, true, false, false, false, false, true], shape: [2, 5])
        let additive = try Tensor.randn([5, 5]) * 0.5
        let onCPU = try attention(x.requiringGrad(), keyPaddingMask: padding, attentionMask: additive)
        try onCPU.square().sum().backward()
        let cpuGradients = try attention.parameters().map { try XCTUnwrap($0.grad).clone() }
        attention.zeroGrad()
        try attention.to(gpu)
        let onGPU = try attention(x.to(device: gpu), keyPaddingMask: padding.to(device: gpu), attentionMask: additive.to(device: gpu))
        XCTAssertEqual(onGPU.device, gpu)
        try onGPU.square().sum().backward()
        try assertClose(onGPU.to(device: .cpu), onCPU, tolerance: 1e-4)
        for (gpuParameter, cpuGradient) in zip(attention.parameters(), cpuGradients) {
            try assertClose(try XCTUnwrap(gpuParameter.grad).to(device: .cpu), cpuGradient, tolerance: 1e-3)
        }
        try gpu.synchronize()
    }

    /// fp16 autocast with dynamic loss scaling on the GPU: fp16 products, finite unscaled fp32
    /// gradients, and an overflow that the scaler catches and skips.
    func testFloat16WithLossScalingOnTheGPU() throws {
        manualSeed(6)
        let gpu = Device.cuda(0)
        let x = try Tensor.randn([16, 32]).to(device: gpu)
        let weight = try (Tensor.randn([32, 32]) * 0.2).to(device: gpu).detached().requiringGrad()
        let target = try Tensor.randint(0, 32, [16]).to(device: gpu)
        var scaler = GradientScaler(scale: 1024)
        let loss = try withAutocast(on: gpu, dtype: .float16) {
            let logits = try Functional.linear(x, weight: weight)
            XCTAssertEqual(logits.dtype, .float16)
            return try Functional.crossEntropy(logits, target)
        }
        try scaler.scaled(loss).backward()
        XCTAssertTrue(try scaler.unscaleGradients([weight]))
        XCTAssertEqual(weight.grad?.dtype, .float32)
        scaler.update(finite: true)
        try weight.setGrad(try Tensor.full([32, 32], Double.infinity).to(device: gpu))
        XCTAssertFalse(try scaler.unscaleGradients([weight]))
        scaler.update(finite: false)
        XCTAssertEqual(scaler.skippedSteps, 1)
        XCTAssertEqual(scaler.scale, 512)
    }

    /// A one-rank NCCL process group: all-reduce, all-gather and broadcast of GPU tensors.
    func testNCCLOneRankCollectives() throws {
        guard ProcessGroup.isNCCLCompiled else { throw XCTSkip("built without NCCL (VLP_WITH_NCCL=1, README)") }
        let gpu = Device.cuda(0)
        let environment = DistributedEnvironment(masterPort: DistributedTests.freePort(), rank: 0, worldSize: 1)
        let group = try ProcessGroup(environment, backend: .nccl, timeout: .seconds(60))
        let t = try Tensor([Float(1), 10], shape: [2]).to(device: gpu)
        try group.allReduce(t)
        XCTAssertEqual(try t.toArray(Float.self), [1, 10])
        let average = try Tensor([Float(6)], shape: [1]).to(device: gpu)
        try group.allReduce(average, .average)
        XCTAssertEqual(try average.toArray(Float.self), [6])
        let gathered = try group.allGather(try Tensor.full([1, 2], 3).to(device: gpu))
        XCTAssertEqual(gathered.shape, [1, 2])
        XCTAssertEqual(gathered.device, gpu)
        XCTAssertEqual(try gathered.toArray(Float.self), [3, 3])
        let b = try Tensor.full([2], 7).to(device: gpu)
        try group.broadcast(b, from: 0)
        try group.barrier()
        XCTAssertEqual(try b.toArray(Float.self), [7, 7])
    }
}
