import Foundation
import Torch
import XCTest
@testable import VLP

/// The `vlp` binary built next to the test bundle.
func vlpExecutable() throws -> URL {
    let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vlp"),
                      Bundle.main.bundleURL.appendingPathComponent("vlp"),
                      Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("vlp"),
                      URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../.build/debug/vlp").standardized]
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw XCTSkip("the vlp binary is not built next to the tests (swift build --build-tests builds it); looked at \(candidates.map(\.path))")
    }
    return found
}

/// Runs `vlp` with arguments in the package root (or `directory`); returns status, stdout and stderr.
@discardableResult
func runVLP(_ arguments: [String], in directory: URL? = nil) throws -> (status: Int32, output: String, errors: String) {
    let process = Process()
    process.executableURL = try vlpExecutable()
    process.arguments = arguments
    process.currentDirectoryURL = directory ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../..").standardized
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let output = out.fileHandleForReading.readDataToEndOfFile(), errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self))
}

final class PretrainCommandTests: TorchTestCase {
    func testPretrainThenEvaluateThroughTheCLI() throws {
        let root = try temporaryFolder("cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("run.yaml")
        try tinyPretrainingYAML(output: root.appendingPathComponent("out").path, steps: 4, checkpointEvery: 2).write(to: config, atomically: true, encoding: .utf8)
        let run = try runVLP(["pretrain", "--config", config.path])
        XCTAssertEqual(run.status, 0, run.errors)
        XCTAssertTrue(run.output.contains("pretrain: 4 steps"), run.output)
        XCTAssertTrue(run.errors.contains("step 4/4"), run.errors)
        let metrics = try MetricsLog.read(root.appendingPathComponent("out/metrics.jsonl"))
        XCTAssertEqual(metrics.compactMap { $0["step"] as? Int }, [1, 2, 3, 4])
        XCTAssertNotNil(metrics.last?["gcpr"] as? Double)
        XCTAssertNotNil(metrics.last?["pairs_per_second"] as? Double)

        // The trained towers embed texts and images (normalised contrastive features).
        let embedded = try runVLP(["embed", "text", "--checkpoint", root.appendingPathComponent("out").path, "--json", "红色的圆形", "a blue star"])
        XCTAssertEqual(embedded.status, 0, embedded.errors)
        let lines = embedded.output.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        let vector = first?["embedding"] as? [Double] ?? []
        XCTAssertEqual(vector.count, 64)
        XCTAssertEqual(vector.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-4)
        XCTAssertEqual(first?["input"] as? String, "红色的圆形")
        // The checkpoint records the context length it trained with, and embedding cuts texts there.
        XCTAssertEqual(try ModelBundle.open(root.appendingPathComponent("out").path).inputs.contextLength, 16)
        XCTAssertEqual(try TowerEmbedder(checkpoint: root.appendingPathComponent("out").path).maxLength, 16)
        XCTAssertEqual(try TowerEmbedder(checkpoint: root.appendingPathComponent("out").path, maxLength: 8).maxLength, 8)

        let evaluation = try runVLP(["evaluate", "retrieval", "--checkpoint", root.appendingPathComponent("out").path,
                                     "--data", "scenes:icr:test", "--scenes-size", "60", "--json"])
        XCTAssertEqual(evaluation.status, 0, evaluation.errors)
        let object = try JSONSerialization.jsonObject(with: Data(evaluation.output.utf8)) as? [String: Any]
        let retrieval = object?["retrieval"] as? [String: Any]
        XCTAssertNotNil(retrieval?["rmean"] as? Double, evaluation.output)
        XCTAssertNotNil(object?["retrieval_reranked"], evaluation.output)
        XCTAssertEqual(object?["rerank_weight"] as? Double, 1, "a trained R2D2 bundle starts at R2D2's own sum")

        // The re-rank weight swept on the valid split: the best R@M's weight is stored in the
        // bundle, and evaluation then ranks by it and prints the formula.
        let out = root.appendingPathComponent("out").path
        let swept = try runVLP(["evaluate", "retrieval", "--checkpoint", out, "--data", "scenes:icr:valid", "--scenes-size", "60",
                                "--rerank-weights", "0,0.5,2", "--choose-rerank-weight", "--json"])
        XCTAssertEqual(swept.status, 0, swept.errors)
        let sweep = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(swept.output.utf8)) as? [String: Any])?["sweep"] as? [[String: Any]])
        XCTAssertEqual(sweep.count, 4, swept.output)
        XCTAssertEqual(sweep.last?["score"] as? String, "p")
        let weighted = sweep.compactMap { point -> (Double, Double)? in
            guard let w = point["score"] as? Double, let rmean = (point["result"] as? [String: Any])?["rmean"] as? Double else { return nil }
            return (w, rmean)
        }
        XCTAssertEqual(weighted.map(\.0), [0, 0.5, 2])
        let best = weighted.max { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 > $1.0 }!
        let stored = try ModelBundle.open(out).preprocessing.rerankWeight
        XCTAssertEqual(stored, best.0, swept.output)
        XCTAssertTrue(swept.errors.contains("stored in") && swept.errors.contains("it was 1"), swept.errors)
        let reevaluated = try runVLP(["evaluate", "retrieval", "--checkpoint", out, "--data", "scenes:icr:test", "--scenes-size", "60"])
        XCTAssertEqual(reevaluated.status, 0, reevaluated.errors)
        XCTAssertTrue(reevaluated.output.contains("score = " + RerankScore.weighted(best.0).formula), reevaluated.output)
        let misplaced = try runVLP(["evaluate", "matching", "--checkpoint", out, "--data", "scenes:icm:test", "--choose-rerank-weight"])
        XCTAssertNotEqual(misplaced.status, 0)
        XCTAssertTrue(misplaced.errors.contains("belong to retrieval"), misplaced.errors)

        // A Chinese-CLIP folder holds several splits: evaluation names one or says which exist.
        let folder = root.appendingPathComponent("cnclip").path
        let corpus = try ScenesCorpus(seed: 4, imageSize: 32)
        for (split, count) in [("valid", 5), ("test", 7)] {
            let writer = try ChineseCLIP.Writer(folder: folder, split: split, encode: ScenesWriter.png)
            try writer.write(contentsOf: corpus.samples(.icr, count: count * 20, split: split == "valid" ? .valid : .test).prefix(count))
            try writer.finish()
        }
        let unnamed = try runVLP(["evaluate", "retrieval", "--checkpoint", root.appendingPathComponent("out").path, "--data", folder])
        XCTAssertNotEqual(unnamed.status, 0)
        XCTAssertTrue(unnamed.errors.contains("holds 2 parts (test, valid)") && unnamed.errors.contains("--split"), unnamed.errors)
        let named = try runVLP(["evaluate", "retrieval", "--checkpoint", root.appendingPathComponent("out").path, "--data", folder,
                                "--split", "test", "--rerank-top-k", "0"])
        XCTAssertEqual(named.status, 0, named.errors)
        XCTAssertTrue(named.output.contains("retrieval on cnclip:test: 7 images"), named.output)
    }

    /// With an evaluation set, R2D2's λ of cos + λ·p is chosen on it once training is done and
    /// stored in the final checkpoint: the weight of the sweep's best R@M, recomputed here on the
    /// same set from the saved bundle.
    func testTheRerankWeightIsChosenOnTheEvaluationSetAtTheEnd() throws {
        let root = try temporaryFolder("cli-lambda")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("run.yaml")
        let evaluation = "evaluation: {every: 4, data: {source: scenes, size: 60, seed: 9, set: icr, split: valid, context_length: 16}}"
        try tinyPretrainingYAML(output: root.appendingPathComponent("out").path, steps: 4, checkpointEvery: 2, extra: evaluation)
            .write(to: config, atomically: true, encoding: .utf8)
        let run = try runVLP(["pretrain", "--config", config.path])
        XCTAssertEqual(run.status, 0, run.errors)
        XCTAssertTrue(run.errors.contains("rerank_weight λ = ") && run.errors.contains("stored in the final checkpoint"), run.errors)
        let bundle = try ModelBundle.open(root.appendingPathComponent("out").path)
        let stored = try XCTUnwrap(bundle.preprocessing.rerankWeight)
        let set = try EvaluationSet.load(try PretrainingRun.load(contentsOf: config).evaluation.data!, for: bundle.model.configuration)
        let recomputed = try withNoGrad { try RetrievalEvaluation.chooseRerankWeight(bundle.model, on: set) }
        XCTAssertEqual(stored, recomputed.weight)
        XCTAssertTrue(RetrievalEvaluation.defaultSweepWeights.contains(stored))
        let best = try XCTUnwrap(recomputed.evaluation.bestSweptWeight)
        for point in recomputed.evaluation.sweep ?? [] {
            guard case .weighted = point.score else { continue }
            XCTAssertLessThanOrEqual(point.result.rmean, best.result.rmean)
        }
        // The earlier checkpoint (step 2) keeps R2D2's own sum.
        let first = try XCTUnwrap(TrainingCheckpoint.list(in: root.appendingPathComponent("out/checkpoints")).first)
        XCTAssertEqual(first.step, 2)
        XCTAssertEqual(try ModelBundle.open(first.url.path).preprocessing.rerankWeight, 1)
    }

    func testFinetuneRetrievalStartsFromTheCheckpoint() throws {
        let root = try temporaryFolder("cli-finetune")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("run.yaml")
        try tinyPretrainingYAML(output: root.appendingPathComponent("pre").path, steps: 2, checkpointEvery: 2).write(to: config, atomically: true, encoding: .utf8)
        XCTAssertEqual(try runVLP(["pretrain", "--config", config.path]).status, 0)
        let tuned = try runVLP(["finetune", "retrieval", "--checkpoint", root.appendingPathComponent("pre").path, "--data", "scenes:icr:train",
                                "--steps", "2", "--batch-size", "8", "--output", root.appendingPathComponent("tuned").path])
        XCTAssertEqual(tuned.status, 0, tuned.errors)
        XCTAssertTrue(tuned.errors.contains("initialised from"), tuned.errors)
        let metrics = try MetricsLog.read(root.appendingPathComponent("tuned/metrics.jsonl"))
        XCTAssertEqual(Set(metrics.compactMap { $0["step"] as? Int }), [1, 2])
        XCTAssertNotNil(metrics.last?["fgr"] as? Double)
        XCTAssertNil(metrics.last?["mlm"])
        // The run it made is recorded as YAML that reads back: R2D2 ranks with its cross encoders (GCPR + FGR).
        let recorded = try PretrainingRun.load(contentsOf: root.appendingPathComponent("tuned/finetune.yaml"))
        XCTAssertEqual(recorded.stages[0].recipe.weights, [.gcpr: 1, .fgr: 1])
        XCTAssertEqual(recorded.initFrom, root.appendingPathComponent("pre").path)
        XCTAssertEqual(recorded.stages[0].data.source, .scenes(size: 5000, seed: 7, languages: ["zh", "en"], set: .icr, split: .train))
        // Matching: the match heads on ICM's labelled pairs (negatives included).
        let matching = try runVLP(["finetune", "matching", "--checkpoint", root.appendingPathComponent("pre").path, "--data", "scenes:icm:train",
                                   "--steps", "2", "--batch-size", "8", "--output", root.appendingPathComponent("matched").path])
        XCTAssertEqual(matching.status, 0, matching.errors)
        let matchMetrics = try MetricsLog.read(root.appendingPathComponent("matched/metrics.jsonl"))
        XCTAssertNotNil(matchMetrics.last?["match"] as? Double, "\(matchMetrics)")
        XCTAssertNil(matchMetrics.last?["gcpr"])
        XCTAssertTrue(try PretrainingRun.load(contentsOf: root.appendingPathComponent("matched/finetune.yaml")).stages[0].data.includeNegatives)
        // A bad scenes set or format is refused before any work, naming the allowed values.
        let badSet = try runVLP(["finetune", "retrieval", "--checkpoint", root.appendingPathComponent("pre").path, "--data", "scenes:icx:train",
                                 "--output", root.appendingPathComponent("t3").path])
        XCTAssertNotEqual(badSet.status, 0)
        XCTAssertTrue(badSet.errors.contains("icx") && badSet.errors.contains("pretrain, icm, iqm, icr, iqr"), badSet.errors)
        let badFormat = try runVLP(["finetune", "retrieval", "--checkpoint", root.appendingPathComponent("pre").path, "--data", "x",
                                    "--format", "jsonll", "--output", root.appendingPathComponent("t4").path])
        XCTAssertNotEqual(badFormat.status, 0)
        XCTAssertTrue(badFormat.errors.contains("jsonll") && badFormat.errors.contains("jsonl"), badFormat.errors)
        // Starting weights are the pretrained ones: a missing checkpoint is an error, not a silent fresh start.
        let missing = try runVLP(["finetune", "retrieval", "--checkpoint", root.appendingPathComponent("nope").path, "--data", "scenes:icr:train",
                                  "--output", root.appendingPathComponent("t2").path])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.errors.contains("no checkpoint there"), missing.errors)
    }

    func testBadConfigFailsWithOneClearLine() throws {
        let root = try temporaryFolder("cli-bad")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("bad.yaml")
        try tinyPretrainingYAML(output: root.path).replacingOccurrences(of: "recipe: r2d2", with: "recipe: clip")
            .write(to: config, atomically: true, encoding: .utf8)
        let run = try runVLP(["pretrain", "--config", config.path])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.errors.contains("recipe") && run.errors.contains("\"clip\"") && run.errors.contains("allowed values: r2d2, prd2"), run.errors)
    }

    /// A repeated key, and an output folder that cannot be made, each stop the run with one line.
    func testDuplicateKeyAndUnwritableOutputFailWithOneLine() throws {
        let root = try temporaryFolder("cli-dup")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("dup.yaml")
        try tinyPretrainingYAML(output: root.appendingPathComponent("run").path, extra: "steps: 9").write(to: config, atomically: true, encoding: .utf8)
        let duplicate = try runVLP(["pretrain", "--config", config.path])
        XCTAssertNotEqual(duplicate.status, 0)
        XCTAssertEqual(duplicate.errors.trimmingCharacters(in: .newlines).split(separator: "\n").count, 1, duplicate.errors)
        XCTAssertTrue(duplicate.errors.contains("\(config.path): duplicate key \"steps\" on line 13 (first on line 4)"), duplicate.errors)

        let file = root.appendingPathComponent("a-file")
        try Data().write(to: file)
        let blocked = root.appendingPathComponent("blocked.yaml")
        try tinyPretrainingYAML(output: file.appendingPathComponent("run").path).write(to: blocked, atomically: true, encoding: .utf8)
        let unwritable = try runVLP(["pretrain", "--config", blocked.path])
        XCTAssertNotEqual(unwritable.status, 0)
        // After the run's opening line, the error in one line (once an NSError dump).
        XCTAssertEqual(unwritable.errors.split(separator: "\n").last, "Error: \(file.path)/run: cannot write: cannot create folder: Not a directory",
                       unwritable.errors)
    }

    /// A device this machine lacks, or a misspelt one, stops the run before it starts.
    func testUnavailableOrBadDeviceFailsClearly() throws {
        let root = try temporaryFolder("cli-device")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("tiny.yaml")
        try tinyPretrainingYAML(output: root.appendingPathComponent("run").path).write(to: config, atomically: true, encoding: .utf8)
        let misspelt = try runVLP(["pretrain", "--config", config.path, "--device", "gpu"])
        XCTAssertNotEqual(misspelt.status, 0)
        XCTAssertTrue(misspelt.errors.contains("'gpu' is not a device"), misspelt.errors)
        let missing = try runVLP(["pretrain", "--config", config.path, "--device", "cuda:\(Device.cudaDeviceCount)"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.errors.contains("cuda:\(Device.cudaDeviceCount)") && missing.errors.contains("GPU"), missing.errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("run/checkpoints").path))
        let evaluation = try runVLP(["evaluate", "retrieval", "--checkpoint", root.path, "--data", "scenes:icr:test",
                                     "--device", "cuda:\(Device.cudaDeviceCount)"])
        XCTAssertNotEqual(evaluation.status, 0)
        XCTAssertTrue(evaluation.errors.contains("sees no GPU") || evaluation.errors.contains("does not exist"), evaluation.errors)
    }

    /// SIGKILL mid-run, then `--resume`: the metrics continue the uninterrupted run's curve.
    func testKilledRunResumesOnTheSameCurve() throws {
        let root = try temporaryFolder("cli-kill")
        defer { try? FileManager.default.removeItem(at: root) }
        func write(_ name: String) throws -> URL {
            let url = root.appendingPathComponent("\(name).yaml")
            try tinyPretrainingYAML(output: root.appendingPathComponent(name).path, steps: 12, recipe: "prd2", model: "r2d2-tiny-dual",
                                    checkpointEvery: 3).write(to: url, atomically: true, encoding: .utf8)
            return url
        }
        let full = try runVLP(["pretrain", "--config", write("full").path])
        XCTAssertEqual(full.status, 0, full.errors)

        let process = Process()
        process.executableURL = try vlpExecutable()
        process.arguments = ["pretrain", "--config", try write("killed").path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let checkpoints = root.appendingPathComponent("killed/checkpoints")
        let deadline = Date().addingTimeInterval(120)
        while TrainingCheckpoint.list(in: checkpoints).isEmpty && process.isRunning && Date() < deadline { usleep(20_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let survivors = TrainingCheckpoint.list(in: checkpoints)
        XCTAssertFalse(survivors.isEmpty)
        XCTAssertLessThan(survivors.last!.step, 12, "killed after the end; the test did not interrupt anything")
        let resumed = try runVLP(["pretrain", "--config", root.appendingPathComponent("killed.yaml").path, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.errors)
        XCTAssertTrue(resumed.errors.contains("resumed from"), resumed.errors)

        func losses(_ name: String) throws -> [Int: Double] {
            var result: [Int: Double] = [:]
            for record in try MetricsLog.read(root.appendingPathComponent("\(name)/metrics.jsonl")) {
                if let step = record["step"] as? Int, let loss = record["loss"] as? Double { result[step] = loss }
            }
            return result
        }
        let a = try losses("full"), b = try losses("killed")
        XCTAssertEqual(a.keys.sorted(), Array(1...12))
        XCTAssertEqual(b.keys.sorted(), Array(1...12))
        for step in 1...12 { XCTAssertEqual(a[step]!, b[step]!, accuracy: 1e-5 * max(1, abs(a[step]!)), "step \(step)") }
    }
}
