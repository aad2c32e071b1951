import Foundation
import Torch
import XCTest
@testable import VLP

/// bf16, activation checkpointing and contrastive accumulation from `vlp pretrain --config` and
/// `vlp finetune` flags.
final class ScaleTrainingCommandTests: TorchTestCase {
    func testPretrainAndFinetuneTakeTheScaleKeys() throws {
        let root = try temporaryFolder("scale-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("run.yaml")
        let out = root.appendingPathComponent("out")
        try tinyPretrainingYAML(output: out.path, steps: 2, checkpointEvery: 2,
                                extra: "precision: bf16\nactivation_checkpointing: true\ngradient_accumulation: 2")
            .write(to: config, atomically: true, encoding: .utf8)
        let run = try runVLP(["pretrain", "--config", config.path])
        XCTAssertEqual(run.status, 0, run.errors)
        let metrics = try MetricsLog.read(out.appendingPathComponent("metrics.jsonl"))
        XCTAssertEqual(metrics.compactMap { $0["step"] as? Int }, [1, 2])
        for term in ["gcpr", "fgr", "mlm", "tgd", "fgd"] { XCTAssertNotNil(metrics.last?[term] as? Double, term) }

        let tuned = root.appendingPathComponent("tuned")
        let finetune = try runVLP(["finetune", "retrieval", "--checkpoint", out.path, "--data", "scenes:icr:train", "--steps", "2",
                                   "--batch-size", "4", "--output", tuned.path, "--precision", "bf16", "--activation-checkpointing",
                                   "--gradient-accumulation", "2"])
        XCTAssertEqual(finetune.status, 0, finetune.errors)
        let recorded = try PretrainingRun.load(contentsOf: tuned.appendingPathComponent("finetune.yaml"))
        XCTAssertEqual(recorded.precision, .bf16)
        XCTAssertTrue(recorded.activationCheckpointing)
        XCTAssertEqual(recorded.gradientAccumulation, 2)

        let fp16 = try runVLP(["finetune", "retrieval", "--checkpoint", out.path, "--data", "scenes:icr:train", "--output", tuned.path,
                               "--precision", "fp16"])
        XCTAssertNotEqual(fp16.status, 0)
        XCTAssertTrue(fp16.errors.contains("fp16 needs --device cuda"), fp16.errors)
        let bad = try runVLP(["finetune", "retrieval", "--checkpoint", out.path, "--data", "scenes:icr:train", "--output", tuned.path,
                              "--precision", "fp8"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.errors.contains("fp32") && bad.errors.contains("bf16"), bad.errors)
    }
}
