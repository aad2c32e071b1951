import Foundation
import Torch
import XCTest
@testable import VLP

/// Checkpoint folders are whole or out of sight: saves stage and rename, prunes rename before
/// deleting, leftovers are swept at the next start, and a `step-*` folder that lacks a file is
/// skipped and reported wherever the latest checkpoint is looked up.
final class CheckpointFolderTests: TorchTestCase {
    func names(_ folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    func testSavesArePrunedToTheNewestWholeFolders() throws {
        let root = try temporaryFolder("ckpt-save")
        defer { try? FileManager.default.removeItem(at: root) }
        let configuration = try ModelConfigurationRegistry.load("r2d2-tiny-dual")
        let model = try PretrainingModel(configuration)
        let folder = root.appendingPathComponent("checkpoints")
        func save(_ step: Int) throws {
            try TrainingCheckpoint.save(in: folder, state: TrainerState(step: step, stage: 0, stageStep: step, loaderPosition: LoaderPosition(seed: 1),
                                                                        badSteps: 0, seed: 1),
                                        model: model.module, configuration: configuration, bundle: nil, optimizer: nil, objectives: [:], keep: 2)
        }
        try save(1)
        // Damaged folders, as an older version's in-place delete left them: one before, one after.
        for step in [0, 7] {
            let damaged = folder.appendingPathComponent(TrainingCheckpoint.folderName(step: step))
            try FileManager.default.copyItem(at: folder.appendingPathComponent("step-000001"), to: damaged)
            try FileManager.default.removeItem(at: damaged.appendingPathComponent(TrainingCheckpoint.objectivesFile))
        }
        XCTAssertEqual(TrainingCheckpoint.list(in: folder).map(\.step), [1])
        XCTAssertEqual(TrainingCheckpoint.incomplete(in: folder).map(\.url.lastPathComponent), ["step-000000", "step-000007"])
        XCTAssertEqual(TrainingCheckpoint.incomplete(in: folder).first?.missing, [TrainingCheckpoint.objectivesFile])
        try save(2)
        try save(3)
        // Saved without an optimizer, a folder still holds every file (the optimizer's is empty).
        XCTAssertEqual(try names(folder), ["step-000002", "step-000003"], "pruned to the newest 2, damaged ones too, nothing hidden left")
        XCTAssertEqual(try names(folder.appendingPathComponent("step-000003")), TrainingCheckpoint.files.sorted())
        XCTAssertTrue(try SafeTensors.read(folder.appendingPathComponent("step-000003/optimizer.safetensors")).tensors.isEmpty)
        // Saving a step again replaces its folder whole.
        try save(3)
        XCTAssertEqual(try names(folder), ["step-000002", "step-000003"])
        XCTAssertEqual(try TrainingCheckpoint.readState(folder.appendingPathComponent("step-000003")).step, 3)
    }

    /// The state a kill leaves at each moment of a save or a prune, built by hand: the next run
    /// sweeps the hidden folders, says so, skips the damaged `step-*` folder, says so, and
    /// resumes from the newest whole one; evaluate/embed's lookup does the same.
    func testLeftoversOfAnInterruptedSaveAndPruneAreSweptAndReported() throws {
        let root = try temporaryFolder("ckpt-sweep")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = try PretrainingRun(yaml: tinyPretrainingYAML(output: root.path, steps: 6, recipe: "prd2", model: "r2d2-tiny-dual",
                                                                     checkpointEvery: 2))
        let first = try Trainer(config)
        first.log = { _ in }
        first.stopAfterStep = 4
        _ = try first.run()
        let folder = root.appendingPathComponent("checkpoints")
        XCTAssertEqual(try names(folder), ["step-000002", "step-000004"])
        // A prune cut short by the old in-place delete: step-000004 without its objectives.
        try FileManager.default.removeItem(at: folder.appendingPathComponent("step-000004/objectives.safetensors"))
        // A save killed while writing, and a prune killed while deleting.
        let staging = folder.appendingPathComponent(".tmp-step-000006-4242"), trash = folder.appendingPathComponent(".trash-step-000001-4242")
        for (hidden, file) in [(staging, TrainingCheckpoint.modelFile), (trash, TrainingCheckpoint.stateFile)] {
            try FileManager.default.createDirectory(at: hidden, withIntermediateDirectories: true)
            try Data("cut short".utf8).write(to: hidden.appendingPathComponent(file))
        }

        XCTAssertEqual(TrainingCheckpoint.list(in: folder).map(\.step), [2])
        var reports: [String] = []
        XCTAssertEqual(try TrainingCheckpoint.resolve(root.path, reporting: { reports.append($0) }).lastPathComponent, "step-000002")
        XCTAssertEqual(reports, ["\(folder.path)/step-000004: not a whole checkpoint (missing objectives.safetensors); ignored"])
        XCTAssertTrue(TrainingCheckpoint.isCheckpoint(root.path))
        XCTAssertEqual(try TrainingCheckpoint.configuration(root.path).architecture.rawValue, "dual_encoder")

        let resumed = try Trainer(config)
        var lines: [String] = []
        resumed.log = { lines.append($0) }
        _ = try resumed.run(resume: true)
        XCTAssertTrue(lines.contains("removed 2 unfinished checkpoint folder(s) an interrupted run left in \(folder.path): .tmp-step-000006-4242, .trash-step-000001-4242"),
                      "\(lines)")
        XCTAssertTrue(lines.contains(reports[0]), "\(lines)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("resumed from \(folder.path)/step-000002 at step 2") }, "\(lines)")
        XCTAssertEqual(try names(folder), ["step-000004", "step-000006"])
        XCTAssertTrue(TrainingCheckpoint.incomplete(in: folder).isEmpty)
        XCTAssertEqual(try MetricsLog.read(root.appendingPathComponent("metrics.jsonl")).compactMap { $0["step"] as? Int }, Array(1...6))
    }

    /// A run folder whose only step folders are damaged has no checkpoint: the error says that
    /// folders were skipped, rather than taking one.
    func testOnlyDamagedFoldersIsNoCheckpoint() throws {
        let root = try temporaryFolder("ckpt-damaged")
        defer { try? FileManager.default.removeItem(at: root) }
        let damaged = root.appendingPathComponent("checkpoints/step-000003")
        try FileManager.default.createDirectory(at: damaged, withIntermediateDirectories: true)
        for file in [TrainingCheckpoint.configFile, TrainingCheckpoint.stateFile] {
            try Data("{}".utf8).write(to: damaged.appendingPathComponent(file))
        }
        var reports: [String] = []
        XCTAssertThrowsError(try TrainingCheckpoint.resolve(root.path, reporting: { reports.append($0) })) { error in
            XCTAssertTrue("\(error)".contains("no whole checkpoint there (1 incomplete step folder(s) skipped)"), "\(error)")
        }
        XCTAssertEqual(reports, ["\(damaged.path): not a whole checkpoint (missing model.safetensors, optimizer.safetensors, objectives.safetensors); ignored"])
        XCTAssertFalse(TrainingCheckpoint.isCheckpoint(root.path))
    }
}
