import Foundation
import Torch
import XCTest
@testable import VLP

/// Gradient accumulation that keeps every negative (GradCache): K micro-batches of B give the
/// gradients of one batch of K·B for the batch-wide objectives (GCPR, TgD), on one process and
/// on two, and the teacher queue takes the same K·B features.
final class ContrastiveAccumulationTests: TorchTestCase {
    static let recipe = PretrainingRecipe(name: "gcpr-tgd", weights: [.gcpr: 1, .tgd: 1])
    static let tolerance = 1e-5

    /// r2d2-tiny-dual in eval mode (no dropout: one batch and its micro-batches see the same network).
    func makeModel() throws -> PretrainingModel {
        manualSeed(3)
        let model = try PretrainingModel(try ModelChoice.named("r2d2-tiny-dual").resolve())
        model.module.eval()
        return model
    }

    /// `count` pairs; every two share an image id (multi-positive targets).
    func makeInputs(count: Int) throws -> PretrainingInputs {
        manualSeed(9)
        return try PretrainingInputs(images: Tensor.randn([count, 3, 32, 32]), imageIDs: Tensor((0..<count).map { Int64($0 / 2) }),
                                     inputIDs: Tensor.randint(1, 2000, [count, 12]), attentionMask: Tensor.ones([count, 12], dtype: .int64))
    }

    static let cmclRecipe = PretrainingRecipe(name: "gcpr-cmcl", weights: [.gcpr: 1, .cmcl: 0.5])

    /// `makeInputs(count: 16)` with CMCL's rewrite slots: an extra positive and 2 hard-negative
    /// slots per row, about 70% of the slots filled.
    func makeInputsWithRewrites() throws -> PretrainingInputs {
        let plain = try makeInputs(count: 16)
        manualSeed(23)
        let k = 2
        func texts(_ count: Int) throws -> TextBatch {
            let ids = try Tensor.randint(1, 2000, [count, 10])
            return TextBatch(inputIDs: ids, attentionMask: try Tensor.ones([count, 10], dtype: .int64), tokenTypeIDs: try Tensor.zeros(like: ids))
        }
        let valid = try Tensor.rand([16, k]) .< 0.7
        let rewrites = try RewriteBatch(positives: texts(16), negatives: texts(16 * k), negativeIsValid: valid)
        return PretrainingInputs(images: plain.images, imageIDs: plain.imageIDs, text: plain.text, rewrites: rewrites)
    }

    /// Rows `range` of `inputs`, with their rewrite slots when there are any.
    func rows(_ inputs: PretrainingInputs, _ range: Range<Int>) throws -> PretrainingInputs {
        func slice(_ batch: TextBatch, _ rows: Range<Int>) throws -> TextBatch {
            TextBatch(inputIDs: try batch.inputIDs[rows].clone(), attentionMask: try batch.attentionMask[rows].clone(),
                      tokenTypeIDs: try batch.tokenTypeIDs[rows].clone())
        }
        let rewrites = try inputs.rewrites.map { all in
            let k = all.negativesPerSample
            return try RewriteBatch(positives: slice(all.positives, range), negatives: slice(all.negatives, (range.lowerBound * k)..<(range.upperBound * k)),
                                    negativeIsValid: try all.negativeIsValid[range].clone())
        }
        return PretrainingInputs(images: try inputs.images[range].clone(), imageIDs: try inputs.imageIDs[range].clone(),
                                 text: try slice(inputs.text, range), rewrites: rewrites)
    }

    /// The same queue contents in both losses, so TgD's queue columns count.
    func fillQueue(_ losses: [PretrainingLoss]) throws {
        manualSeed(17)
        let images = try Functional.normalize(Tensor.randn([6, 64])), texts = try Functional.normalize(Tensor.randn([6, 64]))
        let ids = try Tensor((100..<106).map { Int64($0) })
        for loss in losses { try loss.teacher!.remember(images: images, texts: texts, imageIDs: ids) }
    }

    func gradients(_ model: PretrainingModel) throws -> [String: [Float]] {
        var result: [String: [Float]] = [:]
        for (key, parameter) in model.module.namedParameters() {
            if let grad = parameter.grad { result[key] = try grad.toArray(Float.self) }
        }
        return result
    }

    func assertClose(_ actual: [String: [Float]], _ expected: [String: [Float]], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Set(actual.keys), Set(expected.keys), file: file, line: line)
        XCTAssertGreaterThan(expected.count, 20, file: file, line: line)
        for (key, reference) in expected {
            guard let values = actual[key] else { continue }
            // Relative to the tensor's largest gradient; key biases' gradients are zero but for
            // rounding (softmax ignores a shift), hence the floor.
            let scale = max(reference.map { abs($0) }.max() ?? 0, 1e-3)
            let difference = zip(values, reference).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(Double(difference), Self.tolerance * Double(scale), "\(key)", file: file, line: line)
        }
    }

    /// One process: 2 micro-batches of 8 against one batch of 16.
    func testAccumulatedGradientsEqualOneWholeBatch() throws {
        let model = try makeModel()
        let whole = try makeInputs(count: 16)
        let reference = try PretrainingLoss(recipe: Self.recipe, model: model, queueCapacity: 64)
        let accumulated = try PretrainingLoss(recipe: Self.recipe, model: model, queueCapacity: 64)
        try fillQueue([reference, accumulated])
        model.module.zeroGrad()
        let terms = try reference(model, whole)
        try terms.total.backward()
        let expected = try gradients(model)

        model.module.zeroGrad()
        var backwards: [Bool] = []
        let step = try accumulated.accumulated(model, microBatches: [rows(whole, 0..<8), rows(whole, 8..<16)], seeds: [1, 2],
                                               agreeFinite: { _ in true }, backward: { loss, last in backwards.append(last); try loss.backward() })
        XCTAssertTrue(step.finite)
        XCTAssertEqual(backwards, [false, false, true], "the batch-wide pass, then each micro-batch; the last one synchronises")
        assertClose(try gradients(model), expected)
        let values = try terms.values()
        for term in ["gcpr", "tgd", "loss"] { XCTAssertEqual(step.values[term]!, values[term]!, accuracy: 1e-5, term) }
        // The queue took the whole batch once, as after the one-batch step.
        for (key, tensor) in reference.stateDict() where key.hasPrefix("queue.") {
            XCTAssertEqual(try accumulated.stateDict()[key]!.floats(), try tensor.floats(), key)
        }
        // Plain accumulation (each micro-batch's GCPR over its own 8) gives other gradients: the
        // comparison above can fail.
        model.module.zeroGrad()
        let plain = try PretrainingLoss(recipe: Self.recipe, model: model, queueCapacity: 64)
        try fillQueue([plain])
        for half in [0..<8, 8..<16] { try (plain(model, rows(whole, half)).total * 0.5).backward() }
        let plainGradients = try gradients(model)
        let key = "text_projection.weight"
        XCTAssertNotNil(expected[key])
        XCTAssertGreaterThan(zip(plainGradients[key]!, expected[key]!).map { abs($0 - $1) }.max()!, 1e-4)
    }

    /// CMCL is batch-wide too: 2 micro-batches of 8, each sample with an extra positive and 2
    /// hard-negative slots, give the gradients and the CMCL value of one batch of 16.
    func testAccumulatedCMCLEqualsOneWholeBatch() throws {
        let recipe = Self.cmclRecipe
        let model = try makeModel()
        let whole = try makeInputsWithRewrites()
        model.module.zeroGrad()
        let terms = try PretrainingLoss(recipe: recipe, model: model)(model, whole)
        try terms.total.backward()
        let expected = try gradients(model)
        model.module.zeroGrad()
        let step = try PretrainingLoss(recipe: recipe, model: model).accumulated(model, microBatches: [rows(whole, 0..<8), rows(whole, 8..<16)], seeds: [1, 2],
                                                                               agreeFinite: { _ in true }, backward: { loss, _ in try loss.backward() })
        XCTAssertTrue(step.finite)
        assertClose(try gradients(model), expected)
        let values = try terms.values()
        for term in ["gcpr", "cmcl", "loss"] { XCTAssertEqual(step.values[term]!, values[term]!, accuracy: 1e-5, term) }
        // Each half's own CMCL averages to another value: the comparison above can fail.
        let halves = try [0..<8, 8..<16].map { try PretrainingLoss(recipe: recipe, model: model)(model, rows(whole, $0)).values()["cmcl"]! }
        XCTAssertGreaterThan(abs((halves[0] + halves[1]) / 2 - values["cmcl"]!), 1e-3)
    }

    /// Two ranks, each with 2 micro-batches of 4: their averaged gradients equal one batch of 16.
    func testAccumulatedOnTwoRanksEqualsOneWholeBatch() throws {
        let whole = try makeInputs(count: 16)
        let model = try makeModel()
        let reference = try PretrainingLoss(recipe: Self.recipe, model: model, queueCapacity: 64)
        try fillQueue([reference])
        try reference(model, whole).total.backward()
        let expected = try gradients(model)
        let shards = try (0..<2).map { rank in try (0..<2).map { micro in try rows(whole, (8 * rank + 4 * micro)..<(8 * rank + 4 * micro + 4)) } }
        let models = try (0..<2).map { _ in try makeModel() }
        let losses = try models.map { try PretrainingLoss(recipe: Self.recipe, model: $0, queueCapacity: 64) }
        try fillQueue(losses)
        nonisolated(unsafe) let unsafe = (shards, models, losses)
        let perRank = try LocalProcessGroups.run(worldSize: 2) { rank, group -> [String: [Float]] in
            let (shards, models, losses) = unsafe
            losses[rank].gather = DistributedGather(group: group)
            let step = try losses[rank].accumulated(models[rank], microBatches: shards[rank], seeds: [1, 2], agreeFinite: { _ in true },
                                                    backward: { loss, _ in try loss.backward() })
            XCTAssertTrue(step.finite)
            return try self.gradients(models[rank])
        }
        // Data-parallel training averages the ranks' gradients.
        var averaged: [String: [Float]] = [:]
        for key in perRank[0].keys { averaged[key] = zip(perRank[0][key]!, perRank[1][key]!).map { ($0 + $1) / 2 } }
        assertClose(averaged, expected)
    }

    /// Two ranks, each with 2 micro-batches of 4, GCPR and CMCL together: the ranks' averaged
    /// gradients equal one batch of 16, and each rank all-gathers each tensor once (CMCL reads
    /// GCPR's gathered image features, text features and ids: 4 gathers, not 7).
    func testAccumulatedCMCLOnTwoRanksEqualsOneWholeBatchAndGathersOnce() throws {
        let recipe = Self.cmclRecipe
        let whole = try makeInputsWithRewrites()
        let model = try makeModel()
        try PretrainingLoss(recipe: recipe, model: model)(model, whole).total.backward()
        let expected = try gradients(model)
        let shards = try (0..<2).map { rank in try (0..<2).map { micro in try rows(whole, (8 * rank + 4 * micro)..<(8 * rank + 4 * micro + 4)) } }
        let models = try (0..<2).map { _ in try makeModel() }
        let losses = try models.map { try PretrainingLoss(recipe: recipe, model: $0) }
        nonisolated(unsafe) let unsafe = (shards, models, losses)
        let perRank = try LocalProcessGroups.run(worldSize: 2) { rank, group -> (gradients: [String: [Float]], gathered: [Tensor]) in
            let (shards, models, losses) = unsafe
            let recording = RecordingGather(DistributedGather(group: group))
            losses[rank].gather = recording
            let step = try losses[rank].accumulated(models[rank], microBatches: shards[rank], seeds: [1, 2], agreeFinite: { _ in true },
                                                    backward: { loss, _ in try loss.backward() })
            XCTAssertTrue(step.finite)
            return (try self.gradients(models[rank]), recording.locals)
        }
        var averaged: [String: [Float]] = [:]
        for key in perRank[0].gradients.keys { averaged[key] = zip(perRank[0].gradients[key]!, perRank[1].gradients[key]!).map { ($0 + $1) / 2 } }
        assertClose(averaged, expected)
        for (rank, result) in perRank.enumerated() {
            // The recorder keeps every tensor it gathered alive, so an identity cannot repeat by reuse.
            XCTAssertEqual(Set(result.gathered.map(ObjectIdentifier.init)).count, result.gathered.count, "rank \(rank) gathered a tensor twice")
            XCTAssertEqual(result.gathered.count, 4, "rank \(rank): image and text features, ids, the extra positives")
        }
    }

    /// `gradient_accumulation: 2` in a run trains through GradCache, R2D2's per-pair objectives
    /// included, and logs every term.
    func testTheTrainerAccumulatesWithEveryObjective() throws {
        let root = try temporaryFolder("gradcache")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = try PretrainingRun(yaml: tinyPretrainingYAML(output: root.path, steps: 3, checkpointEvery: 3, extra: "gradient_accumulation: 2"))
        let trainer = try Trainer(run)
        trainer.log = { _ in }
        var seen: [[String: Double]] = []
        trainer.onStep = { _, values in seen.append(values) }
        let summary = try trainer.run()
        XCTAssertEqual(summary.steps, 3)
        XCTAssertEqual(summary.skippedSteps, 0)
        for values in seen {
            for term in ["gcpr", "fgr", "mlm", "tgd", "fgd", "loss"] { XCTAssertTrue(values[term]?.isFinite == true, "\(term) in \(values)") }
        }
        // The queue holds both micro-batches of every step: 3 steps × 2 × batch 8.
        let objectives = try SafeTensors.read(root.appendingPathComponent("checkpoints/step-000003/objectives.safetensors")).tensors
        XCTAssertEqual(objectives["queue.image_ids"]?.shape, [48])
    }
}

/// A gather that keeps every tensor it is asked to gather, then gathers it through `base`.
private final class RecordingGather: FeatureGather {
    let base: FeatureGather
    private(set) var locals: [Tensor] = []

    init(_ base: FeatureGather) { self.base = base }

    func gather(_ local: Tensor) throws -> (all: Tensor, offset: Int) {
        locals.append(local)
        return try base.gather(local)
    }
}
