import Foundation
import Torch
import XCTest
@testable import VLP

/// `freeze:`, `optimizer.layer_decay`, `lora:` and `vlp export --merge-lora`.
final class FineTuningTests: TorchTestCase {
    static let data: TrainingDataDescription = {
        var data = TrainingDataDescription.scenes(size: 120, seed: 3)
        data.contextLength = 16
        return data
    }()

    func snapshot(_ module: Module) throws -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: try module.namedParameters().map { ($0.name, try $0.tensor.toArray(Float.self)) })
    }

    /// `freeze: {image: all, text: {except_last: 1}}`: the image tower, the text embeddings and
    /// the first text block stay bit-identical; the last text block and the rest train.
    func testFrozenParametersDoNotMove() throws {
        let root = try temporaryFolder("freeze")
        defer { try? FileManager.default.removeItem(at: root) }
        let trainer = try Trainer(PretrainingRun(model: .named("r2d2-tiny-dual"), recipe: .prd2, data: Self.data, steps: 3, batchSize: 8,
                                                 optimizer: .init(learningRate: 1e-2), output: root.path, workers: 1,
                                                 freeze: [.image: .all, .text: .allButLast(blocks: 1)]))
        trainer.log = { _ in }
        let towers = try XCTUnwrap(trainer.model.towers)
        let text = towers.textEncoder
        XCTAssertEqual(text.blockCount, 2)
        let before = try snapshot(trainer.model.module)
        let frozenText = text.namedParameters().filter { text.depth(ofParameter: $0.name) <= 1 }.map(\.name)
        XCTAssertTrue(frozenText.contains("embeddings.word_embeddings.weight") && frozenText.contains("encoder.layer.0.attention.self.query.weight"), "\(frozenText)")
        XCTAssertFalse(frozenText.contains { $0.hasPrefix("encoder.layer.1.") })
        for (name, parameter) in text.namedParameters() {
            XCTAssertEqual(parameter.requiresGrad, !frozenText.contains(name), name)
        }
        _ = try trainer.run()
        let after = try snapshot(trainer.model.module)
        let frozen = Set(towers.imageEncoder.namedParameters().map { "vision." + $0.name } + frozenText.map { "text." + $0 })
        for name in frozen { XCTAssertEqual(after[name], before[name], "\(name) moved") }
        let moved = before.keys.filter { after[$0] != before[$0] }
        XCTAssertTrue(moved.contains { $0.hasPrefix("text.encoder.layer.1.") }, "the last text block did not train")
        XCTAssertTrue(moved.contains("text_projection.weight"))
        XCTAssertTrue(Set(moved).isDisjoint(with: frozen))
        // The frozen modules run in eval mode, the last block in training mode.
        trainer.trainingMode()
        XCTAssertFalse(towers.imageEncoder.isTraining)
        XCTAssertFalse(try XCTUnwrap(text as? BertModel).encoder.layers[0].isTraining)
        XCTAssertTrue(try XCTUnwrap(text as? BertModel).encoder.layers[1].isTraining)

        // More blocks than the tower has is an error naming the key.
        XCTAssertThrowsError(try Trainer(PretrainingRun(model: .named("r2d2-tiny-dual"), recipe: .prd2, data: Self.data, steps: 1,
                                                        freeze: [.text: .allButLast(blocks: 3)]))) { error in
            XCTAssertTrue("\(error)".contains("freeze.text.except_last: 3") && "\(error)".contains("2 blocks"), "\(error)")
        }
    }

    /// Layer-wise decay: each tower depth gets decay^(L + 1 − depth), the parts outside the towers 1,
    /// and an update really moves at that rate.
    func testLayerDecayGivesEachDepthItsRate() throws {
        let run = PretrainingRun(model: .named("r2d2-tiny"), recipe: .r2d2, data: Self.data, steps: 1,
                                 optimizer: .init(learningRate: 1e-3, layerDecay: 0.5))
        let trainer = try Trainer(run)
        let towers = try XCTUnwrap(trainer.model.towers)
        let groups = FineTuning.parameterGroups(trainer.model, settings: run.optimizer)
        func scale(_ tensor: Tensor) -> Double? { groups.first { $0.parameters.contains { $0 === tensor } }?.learningRateScale }
        let text = try XCTUnwrap(towers.textEncoder as? BertModel)
        let vision = try XCTUnwrap(towers.imageEncoder as? VisionTransformer)
        // L = 2: embeddings 0.5³, block 0 0.5², block 1 0.5, after the blocks 1.
        XCTAssertEqual(scale(text.embeddings.wordEmbeddings.weight), 0.125)
        XCTAssertEqual(scale(text.encoder.layers[0].attention.selfAttention.query.weight), 0.25)
        XCTAssertEqual(scale(text.encoder.layers[1].output.dense.bias!), 0.5)
        XCTAssertEqual(scale(vision.embeddings.classEmbedding), 0.125)
        XCTAssertEqual(scale(vision.preNorm.weight!), 0.125)
        XCTAssertEqual(scale(vision.encoder.layers[1].mlp.fc2.weight), 0.5)
        XCTAssertEqual(scale(try XCTUnwrap(vision.postNorm).weight!), 1)
        XCTAssertEqual(scale(towers.textProjection.weight), 1)
        let r2d2 = try XCTUnwrap(trainer.model.module as? R2D2)
        XCTAssertEqual(scale(r2d2.textCross.layers[0].mlp.fc1.weight), 1)
        // Every trainable parameter is in exactly one group.
        XCTAssertEqual(groups.reduce(0) { $0 + $1.parameters.count }, trainer.model.module.parameters().count)
        // With the same gradient, block 0 moves a quarter as far as the projection (SGD: Δ = lr·scale·g).
        let optimizer = SGD(groups, learningRate: 0.1)
        let query = text.encoder.layers[0].attention.selfAttention.query.weight, projection = towers.textProjection.weight
        let (q0, p0) = (try query.clone(), try projection.clone())
        for group in groups { for p in group.parameters { try p.setGrad(Tensor.ones(p.shape)) } }
        try optimizer.step()
        XCTAssertEqual(try (q0 - query).mean().item(), 0.025, accuracy: 5e-5)
        XCTAssertEqual(try (p0 - projection).mean().item(), 0.1, accuracy: 5e-5)
        // Without decay, the two groups of before.
        XCTAssertEqual(FineTuning.parameterGroups(trainer.model, settings: .init()).map(\.learningRateScale), [1, 1])
    }

    /// LoRA: only the adapters train (base weights bit-identical), and the checkpoint's bundle,
    /// merged by `ModelBundle.export`, gives the same features as the adapted model.
    func testLoRATrainsOnlyTheAdaptersAndMergesToTheSameOutputs() throws {
        let root = try temporaryFolder("lora")
        defer { try? FileManager.default.removeItem(at: root) }
        let lora = PretrainingRun.LoRA(rank: 4, alpha: 8, dropout: 0.1, targets: Set(PretrainingRun.LoRA.Target.allCases))
        let trainer = try Trainer(PretrainingRun(model: .named("r2d2-tiny"), recipe: .r2d2, data: Self.data, steps: 3, batchSize: 8,
                                                 optimizer: .init(learningRate: 1e-2), output: root.path,
                                                 checkpoints: .init(every: 3, keep: 1), workers: 1, lora: lora))
        trainer.log = { _ in }
        let module = trainer.model.module
        let names = module.namedParameters().map(\.name)
        XCTAssertTrue(names.contains("towers.vision.encoder.layers.0.self_attn.q_proj.lora_a"), "\(names)")
        XCTAssertTrue(names.contains("towers.text.encoder.layer.1.attention.self.value.lora_b"))
        XCTAssertTrue(names.contains("text_cross.layers.0.cross_attn.out_proj.lora_a"))
        XCTAssertTrue(names.contains("towers.text.encoder.layer.0.intermediate.dense.lora_a"))
        let trainable = module.namedParameters().filter(\.tensor.requiresGrad).map(\.name)
        XCTAssertFalse(trainable.isEmpty)
        XCTAssertTrue(trainable.allSatisfy { $0.hasSuffix(".lora_a") || $0.hasSuffix(".lora_b") }, "\(trainable)")
        let before = try snapshot(module)
        _ = try trainer.run()
        let after = try snapshot(module)
        for (name, values) in before where !Module.isAdapterKey(name) { XCTAssertEqual(after[name], values, "\(name) moved") }
        let movedB = before.keys.filter { $0.hasSuffix(".lora_b") && after[$0] != before[$0] }
        XCTAssertFalse(movedB.isEmpty, "no adapter trained")

        // The checkpoint opens with its adapters, and gives the trained model's features.
        let checkpoint = try XCTUnwrap(TrainingCheckpoint.list(in: root.appendingPathComponent("checkpoints")).last).url
        let adapted = try ModelBundle.open(checkpoint.path)
        XCTAssertEqual(adapted.model.module.adaptedLayers().count, trainer.model.module.adaptedLayers().count)
        manualSeed(1)
        let images = try Tensor.randn([3, 3, 32, 32])
        let ids = try Tensor([Int64](arrayLiteral: 101, 2769, 4263, 102, 101, 3173, 102, 0), shape: [2, 4])
        let mask = try (ids .!= 0).to(.int64)
        func features(_ bundle: ModelBundle) throws -> ([Float], [Float]) {
            let towers = try XCTUnwrap(bundle.model.towers)
            return try withNoGrad {
                (try towers.encodeImages(images).features.toArray(Float.self),
                 try towers.encodeTexts(ids, attentionMask: mask).features.toArray(Float.self))
            }
        }
        trainer.model.module.eval()
        let trained = try withNoGrad {
            (try trainer.model.towers!.encodeImages(images).features.toArray(Float.self),
             try trainer.model.towers!.encodeTexts(ids, attentionMask: mask).features.toArray(Float.self))
        }
        let unmerged = try features(adapted)
        XCTAssertEqual(unmerged.0, trained.0)
        XCTAssertEqual(unmerged.1, trained.1)

        // A plain bundle: no adapter tensors, the same features within 1e-5.
        XCTAssertThrowsError(try ModelBundle.export(checkpoint.path, to: root.appendingPathComponent("plain"), mergingAdapters: false)) { error in
            XCTAssertTrue("\(error)".contains("--merge-lora"), "\(error)")
        }
        let summary = try ModelBundle.export(checkpoint.path, to: root.appendingPathComponent("merged"), mergingAdapters: true)
        XCTAssertEqual(summary.mergedLayers, trainer.model.module.adaptedLayers().count)
        let keys = try SafeTensors.read(root.appendingPathComponent("merged/model.safetensors")).tensors.keys
        XCTAssertFalse(keys.contains(where: Module.isAdapterKey))
        let merged = try ModelBundle.open(root.appendingPathComponent("merged").path)
        XCTAssertTrue(merged.model.module.adaptedLayers().isEmpty)
        let plain = try features(merged)
        for (a, b) in zip(plain.0 + plain.1, unmerged.0 + unmerged.1) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        // Training was not a no-op: the merged weights differ from the base weights.
        let baseQuery = try XCTUnwrap(before["towers.vision.encoder.layers.0.self_attn.q_proj.weight"])
        let mergedQuery = try XCTUnwrap(merged.model.module.namedParameters().first { $0.name == "towers.vision.encoder.layers.0.self_attn.q_proj.weight" }).tensor
        XCTAssertNotEqual(try mergedQuery.toArray(Float.self), baseQuery)

        // A run without lora: cannot start from the adapted checkpoint, and says what to do.
        let plainRun = try Trainer(PretrainingRun(model: .named("r2d2-tiny"), recipe: .r2d2, data: Self.data, steps: 1, batchSize: 8,
                                                  output: root.appendingPathComponent("again").path, workers: 1, initFrom: checkpoint.path))
        plainRun.log = { _ in }
        XCTAssertThrowsError(try plainRun.run()) { error in
            XCTAssertTrue("\(error)".contains("LoRA adapters") && "\(error)".contains("vlp export --merge-lora"), "\(error)")
        }
    }

    /// A fresh adapter changes nothing (B = 0); with freeze:, frozen blocks get no adapters.
    func testAdaptersStartAtTheBaseModelAndSkipFrozenBlocks() throws {
        let model = try PretrainingModel(try ModelConfigurationRegistry.load("r2d2-tiny-dual"))
        model.module.eval()
        manualSeed(2)
        let images = try Tensor.randn([2, 3, 32, 32])
        let base = try withNoGrad { try model.towers!.encodeImages(images).features.toArray(Float.self) }
        try FineTuning.freeze([.image: .allButLast(blocks: 1)], of: model)
        let count = try FineTuning.attachAdapters(.init(rank: 2, targets: [.query, .value, .mlp]), to: model.module)
        let adapted = model.module.adaptedLayers().map(\.name)
        XCTAssertFalse(adapted.contains { $0.hasPrefix("vision.encoder.layers.0.") }, "\(adapted)")
        XCTAssertTrue(adapted.contains("vision.encoder.layers.1.self_attn.q_proj"))
        XCTAssertTrue(adapted.contains("vision.encoder.layers.1.mlp.fc2"))
        XCTAssertEqual(count, 4 + 4 * 2)  // image block 1: q, v, fc1, fc2; text blocks: query, value, intermediate, output each
        XCTAssertEqual(try withNoGrad { try model.towers!.encodeImages(images).features.toArray(Float.self) }, base)
        // Nothing left to adapt is an error naming the key.
        XCTAssertThrowsError(try FineTuning.attachAdapters(.init(targets: [.key]), to: try Linear(4, 4))) { error in
            XCTAssertTrue("\(error)".contains("lora.targets"), "\(error)")
        }
    }

    /// The adapted linear's gradients (input, weight, bias, A, B) against finite differences.
    func testLoRALinearGradientsMatchFiniteDifferences() throws {
        manualSeed(3)
        let inputs = [try Tensor.randn([2, 3, 5]), try Tensor.randn([4, 5]), try Tensor.randn([4]), try Tensor.randn([2, 5]),
                      try Tensor.randn([4, 2]), try Tensor(scalar: 1.5)]
        let failures = try GradientCheck.check("loraLinear", { x in
            try Functional.loraLinear(x[0], weight: x[1], bias: x[2], loraA: x[3], loraB: x[4], scaling: x[5])
        }, inputs)
        XCTAssertEqual(failures, [])
        // Merging folds s·B·A into the weight: the same outputs as the adapter.
        let layer = try Linear(5, 4)
        try layer.attachAdapter(rank: 2, alpha: 3)
        try withNoGrad { try layer.loraB!.copy_(Tensor.randn([4, 2])) }
        layer.eval()
        let x = try Tensor.randn([3, 5])
        let adapted = try layer(x).toArray(Float.self)
        try layer.mergeAdapter()
        XCTAssertFalse(layer.hasAdapter)
        XCTAssertEqual(layer.stateDict().map(\.name), ["weight", "bias"])
        for (a, b) in zip(try layer(x).toArray(Float.self), adapted) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    /// `lora.also_train`: the named parts train whole beside the adapters (PEFT's
    /// `modules_to_save`); every other base weight stays bit-identical; a part the model lacks is
    /// an error naming the key.
    func testLoRAAlsoTrainsTheNamedPartsWhole() throws {
        let root = try temporaryFolder("lora-whole")
        defer { try? FileManager.default.removeItem(at: root) }
        let lora = PretrainingRun.LoRA(rank: 4, alpha: 8, targets: [.query, .value], alsoTrain: [.projections, .matchHeads])
        let trainer = try Trainer(PretrainingRun(model: .named("r2d2-tiny"), recipe: .r2d2, data: Self.data, steps: 3, batchSize: 8,
                                                 optimizer: .init(learningRate: 1e-2), output: root.path, workers: 1, lora: lora))
        trainer.log = { _ in }
        let module = trainer.model.module
        let whole = Set(module.namedParameters().map(\.name).filter { name in lora.alsoTrain.contains { $0.contains(parameter: name) } })
        XCTAssertEqual(whole, ["towers.text_projection.weight", "towers.visual_projection.weight", "text_match_head.weight", "text_match_head.bias",
                               "image_match_head.weight", "image_match_head.bias"])
        let trainable = Set(module.namedParameters().filter(\.tensor.requiresGrad).map(\.name))
        XCTAssertEqual(trainable.subtracting(whole), Set(trainable.filter(Module.isAdapterKey)))
        XCTAssertTrue(whole.isSubset(of: trainable))
        let before = try snapshot(module)
        _ = try trainer.run()
        let after = try snapshot(module)
        for (name, values) in before where !Module.isAdapterKey(name) && !whole.contains(name) { XCTAssertEqual(after[name], values, "\(name) moved") }
        for name in whole { XCTAssertNotEqual(after[name], before[name], "\(name) did not train") }

        XCTAssertThrowsError(try Trainer(PretrainingRun(model: .named("r2d2-tiny-dual"), recipe: .prd2, data: Self.data, steps: 1,
                                                        lora: PretrainingRun.LoRA(alsoTrain: [.matchHeads])))) { error in
            XCTAssertTrue("\(error)".contains("lora.also_train: this model has no match_heads"), "\(error)")
        }
        let run = try PretrainingRun(yaml: tinyPretrainingYAML(output: root.path, extra: "lora: {rank: 4, also_train: [temperature, projections]}"))
        XCTAssertEqual(run.lora?.alsoTrain, [.temperature, .projections])
        let written = try run.yaml()
        XCTAssertTrue(written.contains("also_train: [projections, temperature]"), written)
        XCTAssertThrowsError(try PretrainingRun(yaml: tinyPretrainingYAML(output: root.path, extra: "lora: {also_train: [heads]}"))) { error in
            XCTAssertTrue("\(error)".contains("lora.also_train") && "\(error)".contains("match_heads"), "\(error)")
        }
    }

    /// A LoRA run stopped after step 3 and resumed follows the uninterrupted run's loss curve: the
    /// adapters, the parts trained whole and their optimizer state come back from the checkpoint.
    func testLoRARunResumesOnTheSameLossCurve() throws {
        let root = try temporaryFolder("lora-resume")
        defer { try? FileManager.default.removeItem(at: root) }
        let extra = "lora: {rank: 4, alpha: 8, dropout: 0.1, targets: [query, value, mlp], also_train: [projections]}"
        let (full, interrupted, firstLeg) = try straightAndResumedCurves(in: root, extra: extra)
        XCTAssertEqual(firstLeg, [1, 2, 3])
        XCTAssertEqual(interrupted.keys.sorted(), Array(1...6))
        for step in 1...6 {
            for (term, value) in try XCTUnwrap(full[step]) {
                let got = try XCTUnwrap(interrupted[step]?[term], "step \(step) \(term)")
                XCTAssertEqual(got, value, accuracy: 1e-5 * max(1, abs(value)), "step \(step) \(term)")
            }
        }
        XCTAssertGreaterThan(Set(full.values.compactMap { $0["loss"] }).count, 1)
        let model = try ModelBundle.open(root.appendingPathComponent("cut").path).model
        XCTAssertGreaterThan(model.module.adaptedLayers().count, 0)
    }

    /// freeze:, lora: and layer_decay in YAML: a round trip, and bad values naming their key.
    func testYAMLKeysRoundTripAndNameBadValues() throws {
        let base = "model: r2d2-tiny\nrecipe: r2d2\ndata: {}\nsteps: 2\n"
        let run = try PretrainingRun(yaml: base + """
            optimizer: {lr: 1.0e-4, layer_decay: 0.75}
            lock: [image]
            freeze: {text: {except_last: 1}}
            lora: {rank: 4, alpha: 16, dropout: 0.05, targets: [query, value, mlp]}
            """)
        XCTAssertEqual(run.freeze, [.image: .all, .text: .allButLast(blocks: 1)])
        XCTAssertEqual(run.lock, [.image])
        XCTAssertEqual(run.optimizer.layerDecay, 0.75)
        XCTAssertEqual(run.lora, PretrainingRun.LoRA(rank: 4, alpha: 16, dropout: 0.05, targets: [.query, .value, .mlp]))
        let yaml = try run.yaml()
        XCTAssertTrue(yaml.contains("freeze: {image: all, text: {except_last: 1}}"), yaml)
        XCTAssertTrue(yaml.contains("lora: {rank: 4, alpha: 16.0, dropout: 0.05, targets: [query, value, mlp]}"), yaml)
        XCTAssertEqual(try PretrainingRun(yaml: yaml), run)
        let defaults = try PretrainingRun(yaml: base + "lora: {}\n")
        XCTAssertEqual(defaults.lora, PretrainingRun.LoRA())
        XCTAssertEqual(try PretrainingRun(yaml: defaults.yaml()), defaults)

        func error(_ extra: String) -> String {
            do { _ = try PretrainingRun(yaml: base + extra, source: "run.yaml"); return "no error" } catch { return "\(error)" }
        }
        let value = error("freeze: {image: some}\n")
        XCTAssertTrue(value.contains("freeze.image") && value.contains("\"some\"") && value.contains("all, {except_last: N}"), value)
        let tower = error("freeze: {audio: all}\n")
        XCTAssertTrue(tower.contains("unknown key \"freeze.audio\"") && tower.contains("image, text"), tower)
        let negative = error("freeze: {text: {except_last: -1}}\n")
        XCTAssertTrue(negative.contains("freeze.text.except_last"), negative)
        let missing = error("freeze: {text: {}}\n")
        XCTAssertTrue(missing.contains("freeze.text.except_last") && missing.contains("missing"), missing)
        let both = error("lock: [text]\nfreeze: {text: all}\n")
        XCTAssertTrue(both.contains("freeze.text") && both.contains("lock:"), both)
        let target = error("lora: {targets: [query, qkv]}\n")
        XCTAssertTrue(target.contains("lora.targets") && target.contains("\"qkv\"") && target.contains("query, key, value, output, mlp"), target)
        let rank = error("lora: {rank: 0}\n")
        XCTAssertTrue(rank.contains("lora.rank"), rank)
        let unknown = error("lora: {r: 8}\n")
        XCTAssertTrue(unknown.contains("unknown key \"lora.r\"") && unknown.contains("rank, alpha, dropout, targets"), unknown)
        let decay = error("optimizer: {layer_decay: 1.5}\n")
        XCTAssertTrue(decay.contains("optimizer.layer_decay"), decay)
    }
}

/// The controls from the command line: `vlp pretrain --config` with lora: and freeze:, `vlp export
/// --merge-lora`, the merged bundle used by `vlp embed`, and `vlp finetune`'s flags.
final class FineTuningCommandTests: TorchTestCase {
    func testLoRAAndFreezeThroughTheCLIThenMerge() throws {
        let root = try temporaryFolder("cli-lora")
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("out").path
        let config = root.appendingPathComponent("run.yaml")
        try tinyPretrainingYAML(output: out, steps: 2, checkpointEvery: 2, extra: """
            freeze: {image: {except_last: 1}}
            lora: {rank: 8, alpha: 16, targets: [query, value]}
            """).write(to: config, atomically: true, encoding: .utf8)
        let run = try runVLP(["pretrain", "--config", config.path])
        XCTAssertEqual(run.status, 0, run.errors)
        XCTAssertTrue(run.errors.contains("fine-tuning: ") && run.errors.contains("LoRA rank 8"), run.errors)
        // The adapted checkpoint embeds as it is.
        let adapted = try runVLP(["embed", "text", "--checkpoint", out, "--json", "红色的圆形"])
        XCTAssertEqual(adapted.status, 0, adapted.errors)

        let merged = root.appendingPathComponent("merged").path
        let refused = try runVLP(["export", out, "--output", merged])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.errors.contains("--merge-lora"), refused.errors)
        let export = try runVLP(["export", "--merge-lora", out, "--output", merged])
        XCTAssertEqual(export.status, 0, export.errors)
        XCTAssertTrue(export.output.contains("LoRA adapter(s) merged"), export.output)
        let plain = try runVLP(["embed", "text", "--checkpoint", merged, "--json", "红色的圆形"])
        XCTAssertEqual(plain.status, 0, plain.errors)
        func vector(_ output: String) throws -> [Double] {
            let line = try XCTUnwrap(output.split(separator: "\n").first)
            return try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["embedding"] as? [Double])
        }
        for (a, b) in zip(try vector(plain.output), try vector(adapted.output)) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        let again = try runVLP(["export", "--merge-lora", out, "--output", merged])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.errors.contains("--overwrite"), again.errors)

        // vlp finetune: the same controls as flags, recorded in finetune.yaml.
        let tuned = root.appendingPathComponent("tuned")
        let finetune = try runVLP(["finetune", "retrieval", "--checkpoint", merged, "--data", "scenes:icr:train", "--steps", "2",
                                   "--batch-size", "8", "--output", tuned.path, "--freeze", "image", "--freeze", "text:1",
                                   "--layer-decay", "0.8", "--lora-rank", "4", "--lora-targets", "query,value,mlp"])
        XCTAssertEqual(finetune.status, 0, finetune.errors)
        let recorded = try PretrainingRun.load(contentsOf: tuned.appendingPathComponent("finetune.yaml"))
        XCTAssertEqual(recorded.freeze, [.image: .all, .text: .allButLast(blocks: 1)])
        XCTAssertEqual(recorded.optimizer.layerDecay, 0.8)
        XCTAssertEqual(recorded.lora, PretrainingRun.LoRA(rank: 4, alpha: 4, targets: [.query, .value, .mlp]))
        let badFreeze = try runVLP(["finetune", "retrieval", "--checkpoint", merged, "--data", "scenes:icr:train", "--output", tuned.path,
                                    "--freeze", "audio"])
        XCTAssertNotEqual(badFreeze.status, 0)
        XCTAssertTrue(badFreeze.errors.contains("--freeze audio"), badFreeze.errors)
    }
}
