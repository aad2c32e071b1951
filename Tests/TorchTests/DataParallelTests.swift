import Foundation
import XCTest
@testable import Torch

/// `DataParallel` with two ranks on loopback (threads of this process, each with its own Gloo
/// process group, as in DistributedTests).
final class DataParallelTests: TorchTestCase {
    final class Box<T>: @unchecked Sendable { let value: T; init(_ value: T) { self.value = value } }

    func twoRanks<R>(timeout: Duration = .seconds(20), _ body: @escaping @Sendable (Int, ProcessGroup) throws -> R) throws -> [R] {
        try LocalProcessGroups.run(worldSize: 2, timeout: timeout, body)
    }

    static func mlp() throws -> Sequential {
        try Sequential([Linear(6, 16), Activation(.tanh), Linear(16, 16), Activation(.gelu), Linear(16, 3)])
    }

    static func copy(_ values: [Tensor], into module: Module) throws {
        try withNoGrad {
            for (p, v) in zip(module.stateDict().map(\.tensor), values) { try p.copy_(v) }
        }
    }

    /// One step per batch on `model` (mean-squared-error loss) with AdamW, or with SGD, whose
    /// step, unlike Adam's, changes with the gradient's scale (a missing division shows).
    static func train(_ model: Sequential, _ batches: [(Tensor, Tensor)], ddp: DataParallel?, adam: Bool) throws -> [Float] {
        let optimizer: Optimizer = adam ? AdamW(model.parameters(), learningRate: 0.02, weightDecay: 0.01)
                                        : SGD(model.parameters(), learningRate: 0.1, momentum: 0.9)
        for (x, y) in batches {
            model.zeroGrad()
            let loss = try (try model(x) - y).square().mean()
            try loss.backward()
            try ddp?.synchronizeGradients()
            try optimizer.step()
        }
        return try model.parameters().flatMap { try $0.contiguous().reshaped([-1]).toArray(Float.self) }
    }

    /// (a) 2 ranks × batch B reach the same parameters after 3 steps (AdamW, SGD with momentum)
    /// as 1 process × 2B, with and without overlapping backward.
    func testTwoRanksMatchOneProcessOnTheWholeBatch() throws {
        manualSeed(3)
        let initial = try Self.mlp().stateDict().map { try $0.tensor.detached().clone() }
        let b = 4
        let batches = try (0..<3).map { _ in (try Tensor.randn([2 * b, 6]), try Tensor.randn([2 * b, 3])) }
        let shared = Box((initial, batches))
        // Tiny buckets: several, started during backward; 25 MiB: one.
        for (overlap, cap, adam) in [(true, 0.0005, true), (true, 0.0005, false), (false, 25.0, false)] {
            let reference = try Self.mlp()
            try Self.copy(initial, into: reference)
            let expected = try Self.train(reference, batches, ddp: nil, adam: adam)
            let results = try twoRanks { rank, pg -> ([Float], Int, Int) in
                let model = try Self.mlp()  // each rank starts from its own random weights…
                if rank == 0 { try Self.copy(shared.value.0, into: model) }
                let ddp = try DataParallel(module: model, group: pg, bucketCapMB: cap, overlapsBackward: overlap)  // …rank 0's win
                let shards = try shared.value.1.map { x, y in (try x.narrowed(dim: 0, start: rank * b, length: b), try y.narrowed(dim: 0, start: rank * b, length: b)) }
                let params = try Self.train(model, shards, ddp: ddp, adam: adam)
                return (params, ddp.bucketCount, ddp.bucketsStartedDuringLastBackward)
            }
            for (rank, (params, buckets, started)) in results.enumerated() {
                XCTAssertEqual(params.count, expected.count)
                let worst = zip(params, expected).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThan(worst, 1e-5, "rank \(rank), overlap \(overlap), adam \(adam): max |Δθ| = \(worst)")
                if overlap {
                    XCTAssertGreaterThan(buckets, 1)
                    XCTAssertEqual(started, buckets, "every bucket should start during backward")
                } else {
                    XCTAssertEqual(buckets, 1)
                    XCTAssertEqual(started, 0)
                }
            }
        }
    }

    /// A parameter unused on one rank is averaged as zero there; unused everywhere: no gradient.
    func testParametersWithoutGradientAreAveragedConsistently() throws {
        let results = try twoRanks { rank, pg -> [[Float]?] in
            let used = try Linear(2, 2), sometimes = try Linear(2, 2), never = try Linear(2, 2)
            let model = try Sequential([used, sometimes, never])
            let ddp = try DataParallel(module: model, group: pg, bucketCapMB: 1e-5)
            model.zeroGrad()
            var out = try used(try Tensor.ones([1, 2]))
            if rank == 1 { out = try sometimes(out) }
            try out.sum().backward()
            try ddp.synchronizeGradients()
            return [used.weight.grad, sometimes.weight.grad, never.weight.grad].map { try? $0?.reshaped([-1]).toArray(Float.self) }
        }
        XCTAssertEqual(results[0][0], results[1][0])
        XCTAssertNotNil(results[0][1])
        XCTAssertEqual(results[0][1], results[1][1])
        XCTAssertNil(results[0][2])
        XCTAssertNil(results[1][2])
    }

    func testBuffersAndParametersComeFromRankZero() throws {
        let results = try twoRanks { rank, pg -> [Float] in
            let norm = try BatchNorm2d(2)
            try withNoGrad { try norm.runningMean.fill_(Double(rank + 1)) }
            _ = try DataParallel(module: norm, group: pg)
            try withNoGrad { try norm.runningMean.fill_(Double(rank + 5)) }
            let ddp = try DataParallel(module: norm, group: pg)
            try withNoGrad { try norm.runningMean.fill_(Double(rank + 7)) }
            try ddp.broadcastBuffers()
            return try norm.runningMean.toArray(Float.self)
        }
        XCTAssertEqual(results, [[7, 7], [7, 7]])
    }

    func testDifferentModelsOnTheRanksAreAnError() throws {
        let results = try twoRanks { rank, pg -> String in
            do {
                _ = try DataParallel(module: try Linear(4, rank == 0 ? 3 : 2), group: pg)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        for message in results {
            XCTAssertTrue(message.contains("ranks hold different models"), message)
            XCTAssertTrue(message.contains("rank 1 has 2 parameters (10 elements)"), message)
        }
    }

    /// (c) A rank that leaves makes the other's synchronizeGradients throw within the timeout.
    func testRankThatDiesMakesSynchronizeGradientsFailWithinTheTimeout() throws {
        let start = Date()
        let outcomes = try twoRanks(timeout: .seconds(5)) { rank, pg -> String in
            let model = try Self.mlp()
            let ddp = try DataParallel(module: model, group: pg, bucketCapMB: 0.0005)
            if rank == 1 { return "left" }  // its wrapper and group are released here
            Thread.sleep(forTimeInterval: 0.5)
            do {
                try model(try Tensor.randn([4, 6])).square().mean().backward()
                try ddp.synchronizeGradients()
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(outcomes[0].contains("synchronizeGradients on rank 0 of 2"), outcomes[0])
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    /// Two backward passes per rank, the first inside withoutGradientSynchronization: the
    /// synchronized gradient is the average over ranks of each rank's accumulated sum.
    func testGradientAccumulationWithoutSynchronization() throws {
        manualSeed(5)
        let reference = try Self.mlp()
        let initial = try reference.stateDict().map { try $0.tensor.detached().clone() }
        let x = try Tensor.randn([4, 6])
        try (try reference(x).sum() / 2).backward()
        let expected = try reference.parameters().flatMap { try $0.grad!.reshaped([-1]).toArray(Float.self) }
        let shared = Box((initial, x))
        let grads = try twoRanks { rank, pg -> [Float] in
            let model = try Self.mlp()
            if rank == 0 { try Self.copy(shared.value.0, into: model) }
            let ddp = try DataParallel(module: model, group: pg, bucketCapMB: 0.0005)
            model.zeroGrad()
            let mine = try shared.value.1.narrowed(dim: 0, start: rank * 2, length: 2)
            try ddp.withoutGradientSynchronization { try model(try mine.narrowed(dim: 0, start: 0, length: 1)).sum().backward() }
            try model(try mine.narrowed(dim: 0, start: 1, length: 1)).sum().backward()
            try ddp.synchronizeGradients()
            return try model.parameters().flatMap { try $0.grad!.reshaped([-1]).toArray(Float.self) }
        }
        for g in grads {
            let worst = zip(g, expected).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 1e-5)
        }
    }
}
