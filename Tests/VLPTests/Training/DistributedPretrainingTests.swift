import Foundation
import Torch
import XCTest
@testable import VLP

/// `vlp launch -n 2 -- vlp pretrain`: two processes on loopback train one model.
final class DistributedPretrainingTests: TorchTestCase {
    func testTwoProcessesPretrainAndRankZeroWritesTheRun() throws {
        let root = try temporaryFolder("ddp")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("run.yaml")
        let output = root.appendingPathComponent("out")
        try tinyPretrainingYAML(output: output.path, steps: 4, recipe: "prd2", model: "r2d2-tiny-dual", checkpointEvery: 2,
                                extra: "workers: 1").replacingOccurrences(of: "workers: 2\n", with: "")
            .write(to: config, atomically: true, encoding: .utf8)
        let port = String(29_600 + Int(getpid() % 300))
        let run = try runVLP(["launch", "-n", "2", "--master-port", port, "--", "vlp", "pretrain", "--config", config.path])
        XCTAssertEqual(run.status, 0, run.errors + run.output)
        // Only rank 0 logs steps and writes metrics and checkpoints.
        XCTAssertTrue(run.errors.contains("[rank 0]") || run.output.contains("[rank 0]"), run.errors)
        XCTAssertFalse((run.errors + run.output).contains("[rank 1] [pretrain] step"), run.errors)
        let metrics = try MetricsLog.read(output.appendingPathComponent("metrics.jsonl"))
        XCTAssertEqual(metrics.compactMap { $0["step"] as? Int }, [1, 2, 3, 4])
        let checkpoints = TrainingCheckpoint.list(in: output.appendingPathComponent("checkpoints"))
        XCTAssertEqual(checkpoints.map(\.step), [2, 4])
        let state = try TrainingCheckpoint.readState(checkpoints.last!.url)
        XCTAssertEqual(state.worldSize, 2)

        // Resume the 2-process run in 1 process for 2 more steps: the stream position is rescaled.
        let longer = root.appendingPathComponent("longer.yaml")
        try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "steps: 4", with: "steps: 6")
            .write(to: longer, atomically: true, encoding: .utf8)
        let resumed = try runVLP(["pretrain", "--config", longer.path, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.errors)
        XCTAssertTrue(resumed.errors.contains("resumed from"), resumed.errors)
        let after = try TrainingCheckpoint.readState(try TrainingCheckpoint.list(in: output.appendingPathComponent("checkpoints")).last!.url)
        XCTAssertEqual(after.step, 6)
        XCTAssertEqual(after.worldSize, 1)
        XCTAssertEqual(state.loaderPosition(forWorldSize: 1).samplesConsumed, state.loaderPosition.samplesConsumed * 2)
    }

    /// R2D2 on two processes: GCPR, FGR negatives drawn from both ranks' batches (token states
    /// gathered with gradient), MLM, and the distillation queue taking both ranks' teacher features.
    func testTwoProcessesTrainR2D2WithGlobalNegatives() throws {
        // Two steps × 2 ranks × batch 8 teacher features in the queue.
        try assertTwoProcessR2D2Run("ddp-r2d2", port: 29_300, queueRows: 32)
    }

    /// bf16, activation checkpointing and GradCache accumulation together on two processes: the
    /// re-entrant recomputation and the batch-wide pass run under the bucketed all-reduce.
    func testTwoProcessesTrainWithTheScaleKeys() throws {
        // Two steps × 2 ranks × 2 micro-batches × batch 8 teacher features in the queue.
        try assertTwoProcessR2D2Run("ddp-scale", port: 29_000, queueRows: 64,
                                    extra: "precision: bf16\nactivation_checkpointing: true\ngradient_accumulation: 2")
    }

    /// Two steps of R2D2-tiny under `vlp launch -n 2` (port: the base of a 300-port range): every
    /// objective logged, and `queueRows` teacher features queued at the end.
    func assertTwoProcessR2D2Run(_ name: String, port: Int, queueRows: Int, extra: String = "",
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        let root = try temporaryFolder(name)
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("run.yaml")
        let output = root.appendingPathComponent("out")
        try tinyPretrainingYAML(output: output.path, steps: 2, checkpointEvery: 2, extra: "workers: 1\n" + extra)
            .replacingOccurrences(of: "workers: 2\n", with: "").write(to: config, atomically: true, encoding: .utf8)
        let run = try runVLP(["launch", "-n", "2", "--master-port", String(port + Int(getpid() % 300)), "--",
                              "vlp", "pretrain", "--config", config.path])
        XCTAssertEqual(run.status, 0, run.errors + run.output, file: file, line: line)
        let metrics = try MetricsLog.read(output.appendingPathComponent("metrics.jsonl"))
        XCTAssertEqual(metrics.compactMap { $0["step"] as? Int }, [1, 2], file: file, line: line)
        for term in ["gcpr", "fgr", "mlm", "tgd", "fgd"] {
            XCTAssertNotNil(metrics.last?[term] as? Double, term, file: file, line: line)
        }
        let objectives = try SafeTensors.read(output.appendingPathComponent("checkpoints/step-000002/objectives.safetensors")).tensors
        XCTAssertEqual(objectives["queue.image_ids"]?.shape, [queueRows], file: file, line: line)
    }
}
