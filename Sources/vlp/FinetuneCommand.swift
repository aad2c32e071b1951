import ArgumentParser
import Foundation
import VLP
import Torch

/// `vlp finetune retrieval|matching --checkpoint C --data D --steps N --output O`: continues
/// training a pretrained checkpoint. The objectives follow from what the model can compute:
/// retrieval trains GCPR + FGR where the model has cross encoders to rank with (R2D2), GCPR
/// where it has only two towers (a dual encoder), ITM otherwise (the single-stream model);
/// matching trains the match heads on the set's labelled pairs (1 = the text describes the
/// image, 0 = it does not; ICM / IQM style), which needs a model with match heads. The run is an
/// ordinary pretraining run (written to OUTPUT/finetune.yaml), so `--resume`, checkpoints and
/// `metrics.jsonl` work the same. `--freeze`, `--layer-decay` and `--lora-*` are the run's
/// `freeze:`, `optimizer.layer_decay` and `lora:` (README, "Fine-tuning controls").
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune a checkpoint for retrieval (GCPR + FGR) or matching (match heads on labelled pairs).")

    enum Task: String, ExpressibleByArgument, CaseIterable { case retrieval, matching }

    @Argument(help: "retrieval or matching")
    var task: Task

    @Option(help: "The pretrained checkpoint (folder or run).")
    var checkpoint: String

    @Option(help: "Training data: a dataset path, or scenes:SET:SPLIT (sets \(ScenesSet.allCases.map(\.rawValue).joined(separator: ", ")); splits \(DataSplit.allCases.map(\.rawValue).joined(separator: ", "))).")
    var data: String

    @OptionGroup var dataset: DatasetOptions

    @Option(help: "Text kinds to train on (comma-separated: \(TextKind.allCases.map(\.rawValue).joined(separator: ", "))).")
    var kinds: String?

    @Option var steps = 200
    @Option var batchSize = 32
    @Option var lr = 2e-4
    @Option(help: "Output folder.")
    var output: String
    @Flag(help: "Continue from the latest checkpoint in the output folder.")
    var resume = false
    @Option(help: "Keep a tower frozen (repeatable): image or text for the whole tower, image:N or text:N for all but its last N blocks (YAML freeze:).")
    var freeze: [String] = []
    @Option(help: "Layer-wise learning-rate decay in (0, 1]: each block down a tower trains at this factor of the one above (YAML optimizer.layer_decay).")
    var layerDecay = 1.0
    @Option(help: "Train LoRA adapters of this rank instead of the weights (YAML lora.rank).")
    var loraRank: Int?
    @Option(help: "LoRA alpha; the update is scaled by alpha/rank (default: the rank).")
    var loraAlpha: Double?
    @Option(help: "Dropout on the LoRA adapters' inputs.")
    var loraDropout = 0.0
    @Option(help: "The projections LoRA adapts (comma-separated: \(PretrainingRun.LoRA.Target.allCases.map(\.rawValue).joined(separator: ", "))).")
    var loraTargets = "query,value"
    @Option(help: "Parts trained whole beside the LoRA adapters (comma-separated: \(PretrainingRun.LoRA.WholePart.allCases.map(\.rawValue).joined(separator: ", ")); YAML lora.also_train).")
    var loraAlsoTrain: String?
    @Option(help: "Micro-batches per optimizer step; GCPR keeps all of their negatives (YAML gradient_accumulation).")
    var gradientAccumulation = 1
    @Option(help: "fp32, bf16 (autocast, CPU or CUDA) or fp16 (CUDA, loss scaling) (YAML precision).")
    var precision: PretrainingRun.Precision = .fp32
    @Flag(help: "Recompute transformer blocks in backward instead of keeping their activations (YAML activation_checkpointing).")
    var activationCheckpointing = false
    @OptionGroup var target: DeviceOption

    /// The built-in corpus a `scenes:` source draws (the seed the README's numbers use).
    static let scenesSize = 5000, scenesSeed: UInt64 = 7

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        guard batchSize >= 2 else { throw ValidationError("--batch-size must be at least 2 (contrastive objectives need negatives in the batch)") }
        guard lr > 0, lr <= 10 else { throw ValidationError("--lr must be in (0, 10]") }
        _ = try source()
        _ = try textKinds(kinds)
        _ = try freezing()
        guard layerDecay > 0, layerDecay <= 1 else { throw ValidationError("--layer-decay must be in (0, 1]") }
        _ = try lora()
        guard (1...1024).contains(gradientAccumulation) else { throw ValidationError("--gradient-accumulation must be in 1…1024") }
        if precision == .fp16, target.device == .cpu {
            throw ValidationError("--precision fp16 needs --device cuda (libtorch's CPU autocast computes in bf16 only): use bf16 on the CPU")
        }
    }

    /// `--freeze` values as the run's `freeze:`.
    func freezing() throws -> [PretrainingRun.Tower: PretrainingRun.Freezing] {
        var result: [PretrainingRun.Tower: PretrainingRun.Freezing] = [:]
        for value in freeze {
            let parts = value.split(separator: ":", maxSplits: 1).map(String.init)
            guard let tower = PretrainingRun.Tower(rawValue: parts[0]) else {
                throw ValidationError("--freeze \(value): the tower must be image or text (image, text, image:N, text:N)")
            }
            guard result[tower] == nil else { throw ValidationError("--freeze names the \(tower.rawValue) tower twice") }
            if parts.count == 1 {
                result[tower] = .all
            } else if let blocks = Int(parts[1]), blocks >= 0 {
                result[tower] = .allButLast(blocks: blocks)
            } else {
                throw ValidationError("--freeze \(value): after the colon comes the number of last blocks that train, e.g. \(tower.rawValue):2")
            }
        }
        return result
    }

    /// The `--lora-*` options as the run's `lora:`; nil without `--lora-rank`.
    func lora() throws -> PretrainingRun.LoRA? {
        guard let loraRank else {
            guard loraAlpha == nil else { throw ValidationError("--lora-alpha needs --lora-rank") }
            guard loraAlsoTrain == nil else { throw ValidationError("--lora-also-train needs --lora-rank") }
            return nil
        }
        guard loraRank >= 1 else { throw ValidationError("--lora-rank must be at least 1") }
        guard loraAlpha.map({ $0 > 0 }) ?? true else { throw ValidationError("--lora-alpha must be positive") }
        guard loraDropout >= 0, loraDropout < 1 else { throw ValidationError("--lora-dropout must be in [0, 1)") }
        let targets: Set<PretrainingRun.LoRA.Target> = try Self.choices(loraTargets, option: "--lora-targets")
        guard !targets.isEmpty else { throw ValidationError("--lora-targets is empty") }
        let whole: Set<PretrainingRun.LoRA.WholePart> = try Self.choices(loraAlsoTrain ?? "", option: "--lora-also-train")
        return PretrainingRun.LoRA(rank: loraRank, alpha: loraAlpha ?? Double(loraRank), dropout: loraDropout, targets: targets, alsoTrain: whole)
    }

    /// A comma-separated list of a closed set's values; an unknown one names the option and the allowed values.
    static func choices<Value: RawRepresentable & CaseIterable & Hashable>(_ list: String, option: String) throws -> Set<Value>
    where Value.RawValue == String {
        try Set(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.map { name in
            guard let value = Value(rawValue: name) else {
                throw ValidationError("\(option): \"\(name)\" is not one of \(Value.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return value
        })
    }

    /// `--data` (with `--format`, `--split`) as a data description.
    func source() throws -> TrainingDataDescription {
        guard let part = try scenesPart(of: data) else { return .dataset(path: data, format: dataset.format, split: dataset.split) }
        guard dataset.format == nil, dataset.split == nil else { throw ValidationError("--format and --split are for datasets on disk, not scenes:") }
        return .scenes(size: Self.scenesSize, seed: Self.scenesSeed, set: part.set, split: part.split)
    }

    /// The objectives of `task` for a model that can compute `supported`.
    static func recipe(_ task: Task, supported: Set<PretrainingRecipe.Objective>, checkpoint: String) throws -> PretrainingRecipe {
        let weights: [PretrainingRecipe.Objective: Double]
        switch task {
        case .retrieval:
            if supported.contains(.fgr) { weights = [.gcpr: 1, .fgr: 1] }
            else if supported.contains(.gcpr) { weights = [.gcpr: 1] }
            else if supported.contains(.itm) { weights = [.itm: 1] }
            else { throw ValidationError("retrieval fine-tuning needs GCPR, FGR or ITM; \(checkpoint)'s model computes \(supported.map(\.rawValue).sorted().joined(separator: ", "))") }
        case .matching:
            guard supported.contains(.match) else {
                throw ValidationError("matching fine-tuning trains match heads; \(checkpoint)'s model has none (evaluate matching by similarity instead)")
            }
            weights = [.match: 1]
        }
        return PretrainingRecipe(name: "finetune-\(task.rawValue)", weights: weights)
    }

    func run() throws {
        // The model's capabilities decide the objectives; the weights are loaded once, by the trainer (init_from).
        // Texts and images are prepared as the model expects them: its bundle's tokenizer (with the
        // vocabulary file inside the bundle), context length and resize mode.
        let bundle = try ModelBundle.describe(checkpoint)
        let (configuration, preprocessing) = (bundle.configuration, bundle.preprocessing)
        let configFile = bundle.folder.appendingPathComponent(TrainingCheckpoint.configFile)
        let supported = PretrainingModel.supportedObjectives(configuration)
        var data = try source()
        data.textKinds = try textKinds(kinds)
        data.includeNegatives = task == .matching
        let normalization = configuration.vision.inputNormalization
        guard preprocessing.image.mean == normalization.mean, preprocessing.image.std == normalization.std else {
            throw ValidationError("\(checkpoint): its images are normalised with mean \(preprocessing.image.mean), std \(preprocessing.image.std); training a \(configuration.vision.kind.rawValue) tower uses \(normalization.mean), \(normalization.std)")
        }
        data.tokenizer = preprocessing.text.tokenizer
        data.vocabulary = bundle.vocabularyFile.path
        data.contextLength = preprocessing.text.contextLength
        data.imageResize = preprocessing.image.resize
        var run = PretrainingRun(
            model: .file(configFile.path), recipe: try Self.recipe(task, supported: supported, checkpoint: checkpoint), data: data,
            steps: steps, batchSize: batchSize, optimizer: .init(learningRate: lr, layerDecay: layerDecay),
            schedule: .init(shape: .cosine, warmupSteps: max(1, steps / 10)), output: output,
            checkpoints: .init(every: max(1, steps / 2), keep: 2), logEvery: max(1, steps / 20), initFrom: checkpoint, device: target.device,
            freeze: try freezing(), lora: try lora())
        run.gradientAccumulation = gradientAccumulation
        run.precision = precision
        run.activationCheckpointing = activationCheckpointing
        try AtomicFile.makeFolder(output)
        try Data(try run.yaml().utf8).write(to: URL(fileURLWithPath: output).appendingPathComponent("finetune.yaml"))
        let summary = try Trainer(run).run(resume: resume)
        print("finetune: \(summary.steps) steps in \(String(format: "%.1f", summary.seconds)) s; checkpoint \(summary.checkpoint?.path ?? "none")")
    }
}
