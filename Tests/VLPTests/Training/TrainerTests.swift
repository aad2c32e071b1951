import Foundation
import Torch
import XCTest
@testable import VLP

/// A small pretraining config over the built-in corpus, in a fresh temporary output folder.
func tinyPretrainingYAML(output: String, steps: Int = 6, recipe: String = "r2d2", model: String = "r2d2-tiny",
                         checkpointEvery: Int = 3, extra: String = "") -> String {
    """
    model: \(model)
    recipe: \(recipe)
    data: {source: scenes, size: 120, seed: 3, context_length: 16}
    steps: \(steps)
    batch_size: 8
    optimizer: {lr: 1.0e-3}
    schedule: {name: cosine, warmup_steps: 2}
    seed: 5
    output: \(output)
    checkpoint: {every: \(checkpointEvery), keep: 2}
    log_every: 1
    workers: 2
    \(extra)
    """
}

/// Each step's loss values of the tiny run (`extra` added to its YAML) run straight through
/// (`full/`), and run again stopped after step 3 then resumed from its checkpoint (`cut/`);
/// `firstLeg`: the steps the stopped run made.
func straightAndResumedCurves(in root: URL, extra: String = "") throws
    -> (straight: [Int: [String: Double]], resumed: [Int: [String: Double]], firstLeg: [Int]) {
    func run(_ name: String, stopAfter: Int?, resume: Bool) throws -> [Int: [String: Double]] {
        let trainer = try Trainer(try PretrainingRun(yaml: tinyPretrainingYAML(output: root.appendingPathComponent(name).path, extra: extra)))
        trainer.log = { _ in }
        trainer.stopAfterStep = stopAfter
        var seen: [Int: [String: Double]] = [:]
        trainer.onStep = { step, values in seen[step] = values }
        _ = try trainer.run(resume: resume)
        return seen
    }
    let straight = try run("full", stopAfter: nil, resume: false)
    let firstLeg = try run("cut", stopAfter: 3, resume: false)
    let resumed = firstLeg.merging(try run("cut", stopAfter: nil, resume: true)) { _, new in new }
    return (straight, resumed, firstLeg.keys.sorted())
}

func temporaryFolder(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

final class PretrainingRunYAMLTests: TorchTestCase {
    func testReadsAFullConfig() throws {
        let config = try PretrainingRun(yaml: tinyPretrainingYAML(output: "/tmp/x", extra: "gradient_accumulation: 2"))
        XCTAssertEqual(try config.model.resolve().architecture.rawValue, "r2d2")
        XCTAssertEqual(config.stages.count, 1)
        XCTAssertEqual(config.stages[0].recipe, .r2d2)
        XCTAssertEqual(config.totalSteps, 6)
        XCTAssertEqual(config.gradientAccumulation, 2)
        XCTAssertEqual(config.warmupSteps, 2)
        XCTAssertEqual(config.checkpointEvery, 3)
    }

    func testShippedConfigsLoad() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../configs").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
        XCTAssertGreaterThanOrEqual(files.count, 3)
        for file in files {
            let config = try PretrainingRun.load(contentsOf: folder.appendingPathComponent(file))
            XCTAssertGreaterThan(config.totalSteps, 0, file)
        }
        let imagebert = try PretrainingRun.load(contentsOf: folder.appendingPathComponent("imagebert-tiny.yaml"))
        XCTAssertEqual(imagebert.stages.map(\.name), ["weak", "clean"])
        XCTAssertEqual(imagebert.stages[1].data.textKinds, [.title])
    }

    func testBadConfigsNameTheKeyAndTheAllowedValues() {
        func error(_ yaml: String) -> String {
            do { _ = try PretrainingRun(yaml: yaml, source: "run.yaml"); return "no error" } catch { return "\(error)" }
        }
        let unknown = error(tinyPretrainingYAML(output: "/tmp/x", extra: "optimiser: {lr: 1}"))
        XCTAssertTrue(unknown.contains("unknown key \"optimiser\"") && unknown.contains("allowed here:") && unknown.contains("optimizer"), unknown)
        XCTAssertTrue(unknown.contains("line 13"), unknown)
        let recipe = error(tinyPretrainingYAML(output: "/tmp/x", recipe: "r2d3"))
        XCTAssertTrue(recipe.contains("recipe") && recipe.contains("r2d3") && recipe.contains("prd2"), recipe)
        let schedule = error(tinyPretrainingYAML(output: "/tmp/x").replacingOccurrences(of: "name: cosine", with: "name: cosin"))
        XCTAssertTrue(schedule.contains("schedule.name") && schedule.contains("cosine, linear, constant"), schedule)
        let number = error(tinyPretrainingYAML(output: "/tmp/x").replacingOccurrences(of: "batch_size: 8", with: "batch_size: eight"))
        XCTAssertTrue(number.contains("batch_size") && number.contains("integer"), number)
        let nested = error(tinyPretrainingYAML(output: "/tmp/x").replacingOccurrences(of: "seed: 3,", with: "seed: 3, colour: red,"))
        XCTAssertTrue(nested.contains("data.colour"), nested)
        let model = error(tinyPretrainingYAML(output: "/tmp/x", model: "r2d2-huge"))
        XCTAssertTrue(model.contains("r2d2-huge") && model.contains("r2d2-tiny"), model)
        let mismatch = error(tinyPretrainingYAML(output: "/tmp/x", model: "r2d2-tiny-dual"))
        XCTAssertTrue(mismatch.contains("fgr") && mismatch.contains("dual_encoder"), mismatch)
        let weights = error(tinyPretrainingYAML(output: "/tmp/x", recipe: "{weights: {gcpr: 1, fgx: 1}}"))
        XCTAssertTrue(weights.contains("fgx") && weights.contains("gcpr, fgr"), weights)
        XCTAssertTrue(error("model: r2d2-tiny\nrecipe: r2d2\n").contains("steps"))
        XCTAssertTrue(error("model: [").contains("not valid YAML"))
    }

    /// YAML lets a repeated key's last value win silently; here it is an error naming the key's
    /// path and both lines, in any mapping.
    func testDuplicateKeysAreErrors() {
        func error(_ yaml: String) -> String {
            do { _ = try PretrainingRun(yaml: yaml, source: "run.yaml"); return "no error" } catch { return "\(error)" }
        }
        let top = error(tinyPretrainingYAML(output: "/tmp/x", extra: "steps: 60"))
        XCTAssertEqual(top, "run.yaml: duplicate key \"steps\" on line 13 (first on line 4); give each key once")
        let nested = error(tinyPretrainingYAML(output: "/tmp/x").replacingOccurrences(of: "seed: 3,", with: "seed: 3, seed: 4,"))
        XCTAssertTrue(nested.contains("duplicate key \"data.seed\" on line 3"), nested)
        let listed = error("model: r2d2-tiny\nstages:\n  - {steps: 2, recipe: r2d2}\n  - {steps: 2, steps: 3}\n")
        XCTAssertTrue(listed.contains("duplicate key \"stages[1].steps\" on line 4"), listed)
        XCTAssertEqual(error(tinyPretrainingYAML(output: "/tmp/x")), "no error")
    }
}

final class TrainerTests: TorchTestCase {
    /// A run stopped after step 3 and resumed from its checkpoint follows the uninterrupted run's
    /// loss curve exactly (model, optimizer, schedule, teacher, queue, data position, RNG).
    func testResumedRunFollowsTheSameLossCurve() throws {
        let root = try temporaryFolder("resume")
        defer { try? FileManager.default.removeItem(at: root) }
        let (full, interrupted, firstLeg) = try straightAndResumedCurves(in: root)
        XCTAssertEqual(firstLeg, [1, 2, 3])
        XCTAssertEqual(interrupted.keys.sorted(), Array(1...6))
        for step in 1...6 {
            for (term, value) in full[step]! {
                XCTAssertEqual(interrupted[step]![term]!, value, accuracy: 1e-5 * max(1, abs(value)), "step \(step) \(term)")
            }
        }
        // Without the restored state the curve differs (the comparison can fail).
        XCTAssertGreaterThan(Set(full.values.map { $0["loss"]! }).count, 1)
        let metrics = try MetricsLog.read(root.appendingPathComponent("cut/metrics.jsonl"))
        XCTAssertEqual(metrics.compactMap { $0["step"] as? Int }, Array(1...6))
        let checkpoints = TrainingCheckpoint.list(in: root.appendingPathComponent("cut/checkpoints"))
        XCTAssertEqual(checkpoints.map(\.step), [3, 6])
        let names = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("cut/checkpoints").path)
        XCTAssertFalse(names.contains { $0.hasPrefix(".tmp") }, "\(names)")
        // The checkpoint loads as a model on its own.
        let model = try ModelBundle.open(root.appendingPathComponent("cut").path).model
        XCTAssertEqual(model.configuration.architecture.rawValue, "r2d2")
    }

    /// Weights that blow up give non-finite losses: those steps are skipped and reported, and
    /// after `max_bad_steps` in a row the run stops naming the last good checkpoint, which stays.
    func testNonFiniteLossesAreSkippedThenStopTheRun() throws {
        let root = try temporaryFolder("nan")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = try PretrainingRun(yaml: tinyPretrainingYAML(output: root.path, steps: 8, recipe: "prd2", model: "r2d2-tiny-dual",
                                                                     checkpointEvery: 2, extra: "max_bad_steps: 2"))
        let trainer = try Trainer(config)
        var lines: [String] = []
        trainer.log = { lines.append($0) }
        trainer.onStep = { step, _ in
            if step == 3, let towers = trainer.model.towers {
                try? withNoGrad { try towers.textProjection.weight.fill_(Double.nan) }
            }
        }
        XCTAssertThrowsError(try trainer.run()) { error in
            XCTAssertTrue("\(error)".contains("2 non-finite losses in a row"), "\(error)")
            XCTAssertTrue("\(error)".contains("step-000002"), "\(error)")
        }
        XCTAssertEqual(lines.filter { $0.contains("non-finite loss") }.count, 2)
        let checkpoints = TrainingCheckpoint.list(in: root.appendingPathComponent("checkpoints"))
        XCTAssertEqual(checkpoints.map(\.step), [2])
        let restored = try ModelBundle.open(root.path).model
        XCTAssertTrue(try restored.towers!.textProjection.weight.isFinite().all())
        let skipped = try MetricsLog.read(root.appendingPathComponent("metrics.jsonl")).filter { $0["skipped"] as? Bool == true }
        XCTAssertEqual(skipped.count, 2)
    }
}

/// What the training loader puts in a batch: labels of matching sets, whole-word masks.
final class TrainingBatchTests: TorchTestCase {
    /// Training masks Chinese whole words (`whole_word_masking`, default on): every jieba word of a
    /// batch text is masked entirely or not at all; with the key off, some words are cut.
    func testTrainingMasksChineseWholeWords() throws {
        let config = TrainingDataDescription(source: .scenes(size: 200, seed: 4, languages: ["zh"], set: .pretrain, split: .train), contextLength: 48,
                                             maskRatio: 0.3)
        let tokenizer = try TrainingData.bertTokenizer(config)
        let masker = try TokenMasker(tokenizer: tokenizer, ratio: 0.3)
        let segmenter = try JiebaSegmenter.shared()
        func splitWords(_ config: TrainingDataDescription) throws -> (split: Int, words: Int) {
            let loader = try DataLoader(source: TrainingData.source(config, imageSize: 32),
                                        transform: TrainingData.transform(config, imageSize: 32, masking: true),
                                        options: .init(batchSize: 16, workers: 1, shuffle: false, dropLast: false, progress: false),
                                        startingAt: LoaderPosition(seed: 1))
            var split = 0, words = 0
            while let batch = try loader.next() {
                let text = try XCTUnwrap(batch.text)
                let labels = try XCTUnwrap(text.mlmLabels).toArray(Int64.self), length = text.inputIDs.size(1)
                for (row, string) in batch.texts.enumerated() {
                    let encoded = try tokenizer.encode(string, maxLength: config.contextLength, paddedTo: config.contextLength)
                    for group in masker.wordGroups(encoded, spans: [segmenter.wordSpans(string), nil]) where group.count > 1 {
                        let masked = group.filter { labels[row * length + $0] != Int64(TokenMasker.ignoredLabel) }.count
                        words += 1
                        if masked != 0 && masked != group.count { split += 1 }
                    }
                }
            }
            return (split, words)
        }
        let whole = try splitWords(config)
        XCTAssertGreaterThan(whole.words, 100)
        XCTAssertEqual(whole.split, 0, "a jieba word was masked in part")
        var characters = config
        characters.wholeWordMasking = false
        XCTAssertGreaterThan(try splitWords(characters).split, 0, "without whole-word masking some words are cut (the check can fail)")
    }

    /// A matching set read with negatives gives batches with 0/1 labels and keeps its negative
    /// pairs; without, the negative pairs are skipped (no positive text) and there are no 0 labels.
    func testMatchingBatchesCarryLabels() throws {
        var config = TrainingDataDescription(source: .scenes(size: 80, seed: 2, languages: ["en"], set: .icm, split: .train), contextLength: 16)
        func labels(_ config: TrainingDataDescription) throws -> [Int64] {
            let loader = try DataLoader(source: TrainingData.source(config, imageSize: 32),
                                        transform: TrainingData.transform(config, imageSize: 32, masking: false),
                                        options: .init(batchSize: 8, workers: 1, shuffle: false, dropLast: false, progress: false),
                                        startingAt: LoaderPosition(seed: 1))
            var all: [Int64] = []
            while let batch = try loader.next() { all += try batch.labels!.toArray(Int64.self) }
            return all
        }
        let positivesOnly = try labels(config)
        XCTAssertFalse(positivesOnly.contains(0))
        config.includeNegatives = true
        let both = try labels(config)
        XCTAssertEqual(both.count, 64)
        XCTAssertEqual(both.filter { $0 == 0 }.count, 32)
    }
}
