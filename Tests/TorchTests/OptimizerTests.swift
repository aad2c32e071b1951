import XCTest
@testable import Torch

final class OptimizerTests: TorchTestCase {
    func run(_ make: (Tensor, Tensor) -> Optimizer) throws -> (Tensor, Tensor) {
        let f = Fixtures.optim
        let w = try f["w0"]!.clone().requiringGrad(), b = try f["b0"]!.clone().requiringGrad()
        let optimizer = make(w, b)
        for i in 0..<3 {
            try w.setGrad(try f["grad\(i).w"]!.clone())
            try b.setGrad(try f["grad\(i).b"]!.clone())
            try optimizer.step()
        }
        return (w, b)
    }

    func testAdamWWithGroupsMatchesPyTorch() throws {
        let (w, b) = try run { w, b in
            AdamW([ParameterGroup([w], weightDecay: 0.1), ParameterGroup([b], weightDecay: 0)], learningRate: 0.01, betas: (0.9, 0.98), eps: 1e-6)
        }
        try assertClose(w, Fixtures.optim["adamw.w"]!, tolerance: 1e-6, "AdamW weight")
        try assertClose(b, Fixtures.optim["adamw.b"]!, tolerance: 1e-6, "AdamW bias")
    }

    /// The multi-tensor step (what a GPU uses) against the same PyTorch reference, with two
    /// groups of their own decay and learning-rate scale, one more parameter without a gradient.
    func testAdamWMultiTensorStepMatchesPyTorchAndThePerParameterStep() throws {
        let (w, b) = try run { w, b in
            let optimizer = AdamW([ParameterGroup([w], weightDecay: 0.1), ParameterGroup([b], weightDecay: 0)],
                                  learningRate: 0.01, betas: (0.9, 0.98), eps: 1e-6)
            optimizer.foreach = true
            return optimizer
        }
        try assertClose(w, Fixtures.optim["adamw.w"]!, tolerance: 1e-6, "AdamW weight, multi-tensor")
        try assertClose(b, Fixtures.optim["adamw.b"]!, tolerance: 1e-6, "AdamW bias, multi-tensor")

        manualSeed(9)
        let start = try (0..<3).map { _ in try Tensor.randn([5, 4]) }
        let gradients = try (0..<4).map { _ in try (0..<3).map { _ in try Tensor.randn([5, 4]) } }
        func trained(foreach: Bool) throws -> [Tensor] {
            let p = try start.map { try $0.clone().requiringGrad() }
            let optimizer = AdamW([ParameterGroup([p[0], p[1]], weightDecay: 0.05), ParameterGroup([p[2]], learningRateScale: 0.5)],
                                  learningRate: 0.02, weightDecay: 0.01)
            optimizer.foreach = foreach
            for step in gradients {
                for (parameter, gradient) in zip(p, step) { try parameter.setGrad(gradient.clone()) }
                try p[1].setGrad(nil)  // skipped, as in the per-parameter step
                try optimizer.step()
            }
            return p
        }
        for (together, apart) in zip(try trained(foreach: true), try trained(foreach: false)) {
            try assertClose(together, apart, tolerance: 1e-6)
        }
        try assertClose(try trained(foreach: true)[1], start[1], tolerance: 0, "a parameter without a gradient stays")
    }

    func testSGDNesterovMatchesPyTorch() throws {
        let (w, b) = try run { w, b in SGD([w, b], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true) }
        try assertClose(w, Fixtures.optim["sgd.w"]!, tolerance: 1e-6, "SGD weight")
        try assertClose(b, Fixtures.optim["sgd.b"]!, tolerance: 1e-6, "SGD bias")
    }

    func testOptimizerStateRoundTripContinuesIdentically() throws {
        let f = Fixtures.optim
        func make(_ w: Tensor) -> AdamW { AdamW([w], learningRate: 0.01) }
        let w1 = try f["w0"]!.clone().requiringGrad(), w2 = try f["w0"]!.clone().requiringGrad()
        let o1 = make(w1)
        try w1.setGrad(f["grad0.w"]!); try o1.step()
        try withNoGrad { try w2.copy_(w1) }
        let o2 = make(w2)
        try o2.loadStateDict(try o1.stateDict())
        for o in [(o1, w1), (o2, w2)] { try o.1.setGrad(f["grad1.w"]!); try o.0.step() }
        try assertClose(w1, w2, tolerance: 0)
    }

    func testDecayGroupsScheduleClippingAccumulationAndEMA() throws {
        let m = try TinyEncoder()
        let groups = ParameterGroup.decayingMatricesOnly(m.namedParameters(), weightDecay: 0.05)
        XCTAssertTrue(groups[0].parameters.allSatisfy { $0.rank >= 2 })
        XCTAssertTrue(groups[1].parameters.allSatisfy { $0.rank < 2 })
        XCTAssertEqual(groups[0].parameters.count + groups[1].parameters.count, m.parameters().count)

        let schedule = LearningRateSchedules.warmupCosine(peak: 1, warmupSteps: 10, totalSteps: 110, minimum: 0.1)
        XCTAssertEqual(schedule(0), 0.1, accuracy: 1e-12)
        XCTAssertEqual(schedule(9), 1, accuracy: 1e-12)
        XCTAssertEqual(schedule(60), 0.55, accuracy: 1e-12)
        XCTAssertEqual(schedule(500), 0.1, accuracy: 1e-12)

        let p = try Tensor.zeros([4]).requiringGrad()
        try p.setGrad(try Tensor([3, 4, 0, 0] as [Float]))
        XCTAssertEqual(try clipGradientNorm([p], maxNorm: 1), 5, accuracy: 1e-5)
        XCTAssertEqual(try p.grad!.norm().item(), 1, accuracy: 1e-4)

        var accumulation = GradientAccumulation(steps: 3)
        XCTAssertEqual((0..<6).map { _ in accumulation.recordMicroBatch() }, [false, false, true, false, false, true])

        let teacher = try Linear(2, 2), student = try Linear(2, 2)
        let t0 = try teacher.weight.clone(), s0 = try student.weight.clone()
        try ExponentialMovingAverage.update(teacher: teacher, student: student, momentum: 0.9)
        try assertClose(teacher.weight, try t0 * 0.9 + s0 * 0.1, tolerance: 1e-6)
    }
}
