import Foundation
import XCTest
@testable import Torch

final class TensorTests: TorchTestCase {
    func testCreationAndDTypes() throws {
        XCTAssertEqual(try Tensor.zeros([2, 3]).shape, [2, 3])
        XCTAssertEqual(try Tensor.full([2], 7, dtype: .int32).toArray(Int32.self), [7, 7])
        XCTAssertEqual(try Tensor.arange(0, 1, step: 0.25).toArray(Float.self), [0, 0.25, 0.5, 0.75])
        XCTAssertEqual(try Tensor.arange(4).toArray(Int64.self), [0, 1, 2, 3])
        for dtype in DType.allCases {
            let t = try Tensor.ones([3], dtype: dtype)
            XCTAssertEqual(t.dtype, dtype)
            XCTAssertEqual(try t.to(.float32).toArray(Float.self), [1, 1, 1], "\(dtype)")
        }
        let values: [Float] = [1, 2, 3, 4, 5, 6]
        let t = try Tensor(values, shape: [2, 3])
        XCTAssertEqual(try t.toArray(Float.self), values)
        XCTAssertEqual(try Tensor([true, false]).toArray(Bool.self), [true, false])
        let raw = try values.withUnsafeBytes { try Tensor(bytes: $0, shape: [3, 2], dtype: .float32) }
        XCTAssertEqual(raw.shape, [3, 2])
        XCTAssertEqual(try Tensor(scalar: 2.5).item(), 2.5)
        XCTAssertEqual(try Tensor.randint(0, 5, [100]).max().itemInt() < 5, true)
    }

    func testSeedMakesRandomRepeatable() throws {
        manualSeed(42)
        let a = try Tensor.randn([5]).toArray(Float.self)
        manualSeed(42)
        XCTAssertEqual(try Tensor.randn([5]).toArray(Float.self), a)
        let probs = try Tensor([0, 0, 1, 0] as [Float])
        XCTAssertEqual(try probs.multinomial(samples: 1).toArray(Int64.self), [2])
    }

    func testShapeOpsAndIndexing() throws {
        let t = try Tensor.arange(0, 12).reshaped([3, 4])
        XCTAssertEqual(try t[1].toArray(Float.self), [4, 5, 6, 7])
        XCTAssertEqual(try t[1..<3].shape, [2, 4])
        XCTAssertEqual(try t.transposed(0, 1).shape, [4, 3])
        XCTAssertEqual(try t.unsqueezed(dim: 0).squeezed().shape, [3, 4])
        XCTAssertEqual(try t.split(size: 2, dim: 1).map(\.shape), [[3, 2], [3, 2]])
        XCTAssertEqual(try t.split(sizes: [1, 3], dim: 1).map(\.shape), [[3, 1], [3, 3]])
        XCTAssertEqual(try t.chunked(3).count, 3)
        let mask = try t .> 8.0
        XCTAssertEqual(try t[mask].toArray(Float.self), [9, 10, 11])
        XCTAssertEqual(try t.maskedSelect(mask).count, 3)
        XCTAssertEqual(try t.flattened().shape, [12])
        let (values, indices) = try t.topk(2, dim: 1)
        XCTAssertEqual(try values.toArray(Float.self), [3, 2, 7, 6, 11, 10])
        XCTAssertEqual(try indices.toArray(Int64.self), [3, 2, 3, 2, 3, 2])
        XCTAssertEqual(try Tensor([3, 1, 2] as [Float]).argsort().toArray(Int64.self), [1, 2, 0])
        XCTAssertEqual(try Tensor([3, 1, 2] as [Float]).sorted(descending: true).values.toArray(Float.self), [3, 2, 1])
        XCTAssertEqual(try t.argmax(dim: 1).toArray(Int64.self), [3, 3, 3])
        XCTAssertEqual(try t.max(dim: 0).values.toArray(Float.self), [8, 9, 10, 11])
        XCTAssertEqual(try t.max().item(), 11)
        XCTAssertTrue(try (t .>= 0.0).all())
        XCTAssertFalse(try (t .< 0.0).any())
        XCTAssertEqual(try t.expanded([2, 3, 4]).shape, [2, 3, 4])
        XCTAssertEqual(try Tensor.ones([2, 2]).padded([1, 1]).shape, [2, 4])
    }

    func testInPlaceOpsShareStorage() throws {
        let t = try Tensor.zeros([3])
        let view = try t.slice(dim: 0, 1..<3)
        try view.fill_(5)
        XCTAssertEqual(try t.toArray(Float.self), [0, 5, 5])
        try t.add_(try Tensor.ones([3]), alpha: 2)
        XCTAssertEqual(try t.toArray(Float.self), [2, 7, 7])
        try t.addcmul_(t, t, value: 0.5)
        XCTAssertEqual(try t.toArray(Float.self), [4, 31.5, 31.5])
    }

    func testIntegerScalarsKeepIntegerTensorsIntegral() throws {
        let ids = try Tensor([1, 2] as [Int64])
        XCTAssertEqual(try (ids + 1).dtype, .int64)
        XCTAssertEqual(try (ids * 2.5).dtype, .float32)
    }

    func testDeviceIsCPUAndCUDAIsOptional() throws {
        XCTAssertEqual(try Tensor.ones([1]).device, .cpu)
        if Device.isCUDAAvailable {
            let g = try Tensor.ones([2], device: .cuda(0))
            XCTAssertEqual(g.device, .cuda(0))
            XCTAssertEqual(try g.toArray(Float.self), [1, 1])
        } else {
            XCTAssertThrowsError(try Tensor.ones([1], device: .cuda(0)))
        }
    }

    /// The explicit start-up call (no tensor applies settings as a side effect any more).
    func testConfigureDefaultsAppliesTheThreadDefaults() throws {
        TorchThreads.configureDefaults()
        _ = try Tensor.ones([1])
        let expected = ProcessInfo.processInfo.environment["VLP_NUM_THREADS"].flatMap(Int.init)
            ?? ProcessInfo.processInfo.activeProcessorCount
        XCTAssertEqual(TorchThreads.intraOp, expected)
    }

    /// malloc's thresholds apply on glibc unless the user keeps or tunes malloc's own, and a
    /// tensor larger than the old 128 KiB threshold is freed and allocated again without error.
    func testHeapSettingsApplyUnlessTheUserTunesMalloc() throws {
        XCTAssertFalse(HeapSettings.configureDefaults(environment: ["VLP_KEEP_MALLOC_DEFAULTS": "1"]))
        XCTAssertFalse(HeapSettings.configureDefaults(environment: ["GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"]))
        #if canImport(Glibc)
        XCTAssertTrue(HeapSettings.configureDefaults(environment: ["GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2"]))
        XCTAssertTrue(HeapSettings.isApplied)
        #endif
        for _ in 0..<3 {
            let block = try Tensor.ones([1 << 20])
            XCTAssertEqual(try block.sum().item(), Double(1 << 20))
        }
    }
}
