import Foundation
import Torch
import XCTest
@testable import VLP

/// `precision:` in runs: bf16 under autocast follows fp32's loss curve; fp16 needs CUDA.
final class MixedPrecisionTests: TorchTestCase {
    /// The stated tolerance: bf16's total loss within 0.5% of fp32's at every one of 50 steps.
    /// Measured on this test's run (r2d2-tiny, GCPR + FGR + MLM + TgD + FgD, batch 8): at most
    /// 0.087% (16.9017 against 16.9091 at step 50).
    static let relativeTolerance = 0.005

    func testBF16LossCurveFollowsFP32For50Steps() throws {
        let root = try temporaryFolder("precision")
        defer { try? FileManager.default.removeItem(at: root) }
        func curve(_ precision: String) throws -> [Int: Double] {
            let run = try PretrainingRun(yaml: tinyPretrainingYAML(output: root.appendingPathComponent(precision).path, steps: 50,
                                                                   checkpointEvery: 50, extra: "precision: \(precision)"))
            XCTAssertEqual(run.precision.rawValue, precision)
            let trainer = try Trainer(run)
            trainer.log = { _ in }
            var losses: [Int: Double] = [:]
            trainer.onStep = { step, values in losses[step] = values["loss"] }
            let summary = try trainer.run()
            XCTAssertEqual(summary.skippedSteps, 0)
            return losses
        }
        let full = try curve("fp32"), mixed = try curve("bf16")
        XCTAssertEqual(mixed.keys.sorted(), Array(1...50))
        var largest = 0.0
        for step in 1...50 {
            let difference = abs(mixed[step]! - full[step]!) / abs(full[step]!)
            largest = max(largest, difference)
            XCTAssertLessThan(difference, Self.relativeTolerance, "step \(step): bf16 \(mixed[step]!) against fp32 \(full[step]!)")
        }
        print("bf16 against fp32 over 50 steps: largest relative loss difference \(largest), at step 50 \(mixed[50]!) against \(full[50]!)")
        XCTAssertGreaterThan(largest, 0, "bf16 gave fp32's curve exactly: autocast did not engage")
        XCTAssertLessThan(mixed[50]!, mixed[1]!, "bf16 trains")
        // The bf16 checkpoint is an ordinary fp32 bundle.
        let model = try ModelBundle.open(root.appendingPathComponent("bf16").path).model
        XCTAssertTrue(model.module.parameters().allSatisfy { $0.dtype == .float32 })
    }

    func testPrecisionIsDecodedWrittenAndChecked() throws {
        let run = try PretrainingRun(yaml: tinyPretrainingYAML(output: "/tmp/x", extra: "precision: bf16\nactivation_checkpointing: true"))
        XCTAssertEqual(run.precision, .bf16)
        XCTAssertTrue(run.activationCheckpointing)
        XCTAssertEqual(try PretrainingRun(yaml: run.yaml()), run)
        XCTAssertEqual(try PretrainingRun(yaml: tinyPretrainingYAML(output: "/tmp/x")).precision, .fp32)
        XCTAssertThrowsError(try PretrainingRun(yaml: tinyPretrainingYAML(output: "/tmp/x", extra: "precision: fp8"), source: "run.yaml")) {
            XCTAssertTrue("\($0)".contains("precision") && "\($0)".contains("fp32, bf16, fp16"), "\($0)")
        }
        XCTAssertThrowsError(try PretrainingRun(yaml: tinyPretrainingYAML(output: "/tmp/x", extra: "precision: fp16"), source: "run.yaml")) {
            XCTAssertTrue("\($0)".contains("fp16 needs a CUDA device"), "\($0)")
        }
        var code = run
        code.precision = .fp16
        XCTAssertThrowsError(try Trainer(code)) { XCTAssertTrue("\($0)".contains("fp16 needs a CUDA device"), "\($0)") }
    }

    /// The trainer's loss-scaling path without a GPU: an fp32 run given a scale past float32's
    /// range overflows, skips those steps (counted, logged, parameters untouched, not bad steps),
    /// backs off until the scaled loss fits, then trains; the scale reaches the checkpoint.
    func testOverflowingLossScaleSkipsStepsThenTrains() throws {
        let root = try temporaryFolder("loss-scale")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = try PretrainingRun(yaml: tinyPretrainingYAML(output: root.path, steps: 12, recipe: "prd2", model: "r2d2-tiny-dual",
                                                               checkpointEvery: 12, extra: "max_bad_steps: 2"))
        let trainer = try Trainer(run)
        trainer.lossScaler = GradientScaler(scale: 0x1p128)
        var lines: [String] = []
        trainer.log = { lines.append($0) }
        let before = try trainer.model.towers!.textProjection.weight.clone()
        var unchangedAfterSkip = true
        trainer.onStep = { step, _ in
            if step == 1 { unchangedAfterSkip = (try? (trainer.model.towers!.textProjection.weight .== before).all()) ?? false }
        }
        let summary = try trainer.run()
        XCTAssertEqual(summary.steps, 12)
        XCTAssertTrue(unchangedAfterSkip, "an overflowed step moved the weights")
        let overflows = lines.filter { $0.contains("fp16 gradients overflowed") }
        XCTAssertGreaterThanOrEqual(overflows.count, 3, "2¹²⁸ × a loss of ~10 needs several halvings: \(lines)")
        XCTAssertLessThan(overflows.count, 12, "the run never trained")
        XCTAssertEqual(summary.skippedSteps, overflows.count)
        XCTAssertFalse(try (trainer.model.towers!.textProjection.weight .== before).all(), "no step trained")
        let state = try TrainingCheckpoint.readState(XCTUnwrap(summary.checkpoint))
        let scaling = try XCTUnwrap(state.lossScaling)
        XCTAssertEqual(scaling.skippedSteps, overflows.count)
        XCTAssertEqual(scaling.scale, 0x1p128 / pow(2, Double(overflows.count)))
        let skipped = try MetricsLog.read(root.appendingPathComponent("metrics.jsonl")).filter { $0["reason"] as? String == "fp16 overflow" }
        XCTAssertEqual(skipped.count, overflows.count)
    }

    func testLossScalingStateRoundTripsThroughTheCheckpointState() throws {
        var scaler = GradientScaler(scale: 512)
        scaler.update(finite: false)
        var state = TrainerState(step: 4, stage: 0, stageStep: 4, loaderPosition: LoaderPosition(seed: 1), badSteps: 0, seed: 1)
        state.lossScaling = TrainerState.LossScaling(scaler)
        let decoded = try JSONDecoder().decode(TrainerState.self, from: JSONEncoder().encode(state))
        XCTAssertEqual(decoded.lossScaling, TrainerState.LossScaling(scale: 256, goodSteps: 0, skippedSteps: 1))
    }
}
