import Foundation
import Torch

/// One stage of a multi-stage schedule (ImageBERT pretrains in stages on different data).
public struct TrainingStage: Equatable, Sendable {
    public var name: String
    public var steps: Int
    public var recipe: PretrainingRecipe
    public var data: TrainingDataDescription

    public init(name: String, steps: Int, recipe: PretrainingRecipe, data: TrainingDataDescription) {
        self.name = name
        self.steps = steps
        self.recipe = recipe
        self.data = data
    }
}

/// A pretraining run: what `Trainer` runs, what `vlp pretrain --config FILE.yaml` decodes
/// (`PretrainingRun+YAML.swift`) and what the demo and `vlp finetune` fill in code.
///
/// ```swift
/// try Trainer(PretrainingRun(model: .named("r2d2-tiny"), recipe: .r2d2, data: .scenes(size: 800), steps: 20)).run()
/// ```
///
/// The initialiser's arguments are the defaults (the YAML decoder starts from them). A run of
/// several stages sets `stages` after `init` (the `recipe`/`data`/`steps` given there become a
/// single stage named `pretrain`). Values that follow from the total steps or the model (warm-up,
/// checkpoint interval, output folder) are nil until set and resolved by `warmupSteps`,
/// `checkpointEvery` and `outputFolder`.
///
/// ```yaml
/// model: r2d2-tiny              # a named configuration or a JSON file
/// recipe: r2d2                  # a preset, or {name:, weights: {gcpr: 1, …}, enhanced_training: true}
/// data: {source: scenes, size: 2000, context_length: 32}
/// steps: 300                    # or stages: [{name:, steps:, data:, recipe:}, …]
/// batch_size: 32
/// gradient_accumulation: 1
/// optimizer: {lr: 5.0e-4, weight_decay: 0.05, betas: [0.9, 0.98], clip_norm: 1.0, layer_decay: 1}
/// schedule: {name: cosine, warmup_steps: 20}
/// seed: 0
/// output: runs/r2d2-tiny
/// checkpoint: {every: 100, keep: 2}
/// evaluation: {every: 100, data: {source: scenes, set: icr, split: valid}}
/// distillation: {queue: 256, momentum: 0.995, patch_mask_ratio: 0.3, alpha: 0.4, alpha_ramp_steps: 100}
/// device: cpu                   # cpu, cuda or cuda:N
/// lock: [image]                 # towers kept frozen (LiT); the same as freeze: {image: all}
/// freeze: {image: all, text: {except_last: 2}}   # all, or all but the last N blocks
/// lora: {rank: 8, alpha: 16, dropout: 0.05, targets: [query, value, output, mlp]}
/// precision: bf16              # fp32, bf16 (autocast on CPU or CUDA) or fp16 (CUDA, loss scaling)
/// activation_checkpointing: true
/// ```
public struct PretrainingRun: Equatable, Sendable {
    public var model: ModelChoice
    public var stages: [TrainingStage]
    public var batchSize: Int
    public var gradientAccumulation: Int
    public var optimizer: OptimizerSettings
    public var schedule: Schedule
    public var seed: UInt64
    /// The run folder (metrics, checkpoints); nil: `runs/<model name>`.
    public var output: String?
    public var checkpoints: Checkpoints
    public var logEvery: Int
    public var evaluation: Evaluation
    /// Loader threads.
    public var workers: Int
    /// Consecutive non-finite losses before the run stops.
    public var maxBadSteps: Int
    public var distillation: Distillation
    /// A checkpoint (folder or run) whose weights start the run (fine-tuning); nil starts from
    /// the configuration's initialisation.
    public var initFrom: String?
    /// Where the model trains (a launcher's `cuda` means `cuda:LOCAL_RANK`).
    public var device: Device
    /// What stays frozen of each tower for the whole run (`freeze: {image: all, text: {except_last: 2}}`).
    public var freeze: [Tower: Freezing]
    /// LoRA adapters; nil trains the weights themselves.
    public var lora: LoRA?

    /// The towers frozen whole (LiT: `lock: [image]`), the `.all` entries of `freeze`; setting it
    /// replaces them.
    public var lock: Set<Tower> {
        get { Set(freeze.filter { $0.value == .all }.keys) }
        set {
            freeze = freeze.filter { $0.value != .all }
            for tower in newValue { freeze[tower] = .all }
        }
    }
    /// The forward's arithmetic (`precision:`): fp32, or bf16 / fp16 under libtorch's autocast
    /// with fp32 parameters and optimizer state (fp16: CUDA only, with dynamic loss scaling).
    public var precision: Precision = .fp32
    /// Recompute each transformer block's activations during backward instead of keeping them
    /// (`activation_checkpointing: true`): less memory, one more forward per step.
    public var activationCheckpointing = false

    public init(model: ModelChoice, recipe: PretrainingRecipe, data: TrainingDataDescription, steps: Int,
                batchSize: Int = 32, gradientAccumulation: Int = 1, optimizer: OptimizerSettings = OptimizerSettings(),
                schedule: Schedule = Schedule(), seed: UInt64 = 0, output: String? = nil,
                checkpoints: Checkpoints = Checkpoints(), logEvery: Int = 10, evaluation: Evaluation = Evaluation(), workers: Int = 2,
                maxBadSteps: Int = 5, distillation: Distillation = Distillation(), initFrom: String? = nil,
                device: Device = .cpu, lock: Set<Tower> = [], freeze: [Tower: Freezing] = [:], lora: LoRA? = nil) {
        self.model = model
        self.stages = [TrainingStage(name: Self.singleStageName, steps: steps, recipe: recipe, data: data)]
        self.batchSize = batchSize
        self.gradientAccumulation = gradientAccumulation
        self.optimizer = optimizer
        self.schedule = schedule
        self.seed = seed
        self.output = output
        self.checkpoints = checkpoints
        self.logEvery = logEvery
        self.evaluation = evaluation
        self.workers = workers
        self.maxBadSteps = maxBadSteps
        self.distillation = distillation
        self.initFrom = initFrom
        self.device = device
        self.freeze = freeze
        self.lora = lora
        self.lock.formUnion(lock)
    }

    /// The name of the stage a single-stage run (`steps:`) has.
    public static let singleStageName = "pretrain"

    public var totalSteps: Int { stages.reduce(0) { $0 + $1.steps } }

    /// Linear warm-up steps: as set, else a tenth of the run (at most 100).
    public var warmupSteps: Int { schedule.warmupSteps ?? min(100, totalSteps / 10) }

    /// Steps between checkpoints: as set, else a quarter of the run.
    public var checkpointEvery: Int { checkpoints.every ?? max(1, totalSteps / 4) }

    /// The run folder: as set, else `runs/<model name>`.
    public var outputFolder: String { output ?? "runs/\(model.name)" }

    /// The model's configuration, checked against every stage's recipe.
    public func resolvedModel() throws -> VLPModelConfiguration {
        let configuration = try model.resolve()
        for stage in stages {
            do {
                try PretrainingModel.checkSupport(configuration: configuration, recipe: stage.recipe)
            } catch {
                throw ConfigError("stage \"\(stage.name)\": \(error)")
            }
        }
        return configuration
    }
}
