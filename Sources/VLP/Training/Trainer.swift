import Foundation
import Torch

/// Why a run stopped early.
public struct TrainingStopped: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// What a finished (or interrupted) run did.
public struct TrainingSummary: Sendable {
    public var steps: Int
    public var seconds: Double
    public var skippedSteps: Int
    public var lastLoss: [String: Double]
    public var checkpoint: URL?
    public var dataSkips: String
}

/// Runs a `PretrainingRun`: stages in order, each with its recipe and data; AdamW with warm-up
/// and a cosine / linear / constant schedule over all stages; gradient accumulation and clipping;
/// metrics appended to `OUTPUT/metrics.jsonl`; periodic evaluation; atomic checkpoints in
/// `OUTPUT/checkpoints` (keep-last-N); what an interrupted save or prune left there is swept at
/// the start (`TrainingCheckpoint`).
///
/// **Resume** restores the model, the optimizer, the schedule (by step), the EMA teacher and its
/// queue, and the loader position; the random generator is re-seeded from (seed, step) at every
/// step, so a resumed run draws the same dropout masks, negatives and patch masks as an
/// uninterrupted one and follows the same loss curve.
///
/// **Non-finite losses**: the step is skipped (no update) and reported; `max_bad_steps` in a row
/// stop the run with the last good checkpoint left intact.
///
/// **Mixed precision** (`precision: bf16 | fp16`): each micro-batch's forward and losses run under
/// libtorch's autocast, the backward outside it; parameters, gradients and AdamW's state stay
/// fp32. fp16 scales the loss (`GradientScaler`): a step whose unscaled gradients overflow is
/// skipped (counted, logged, not a bad step) and the scale, saved in checkpoints, backs off.
///
/// **Gradient accumulation** (`gradient_accumulation: K`) keeps the whole K·B batch as the
/// negatives of the batch-wide objectives (GCPR, TgD) by GradCache
/// (`PretrainingLoss.accumulated`); recipes without them sum K ordinary backward passes.
///
/// **Activation checkpointing** (`activation_checkpointing: true`): every transformer block stack
/// (ViT, BERT, CLIP text, cross encoders) recomputes its blocks in backward (`checkpointed`).
///
/// **Locked towers** (`lock:`, LiT), **frozen blocks** (`freeze:`) and, under **LoRA** (`lora:`),
/// every weight but the adapters are frozen when the trainer is made (`FineTuning`): they get no
/// gradients, the optimizer never holds them, and they stay as initialised (or as `init_from`
/// loads them; a checkpoint without adapters loads into an adapted model, whose adapters then
/// start at zero change).
public final class Trainer {
    public let pretrainingRun: PretrainingRun
    /// The model's configuration, as `run.model` resolved it.
    public let configuration: VLPModelConfiguration
    public let model: PretrainingModel
    /// `run.device`, made `cuda:LOCAL_RANK` under a launcher.
    public let device: Device
    /// Called every `evaluation.every` steps and at the end; its numbers go to metrics.jsonl.
    public var evaluate: ((PretrainingModel, Int) throws -> [String: Double])?
    /// Chooses R2D2's re-ranking weight λ of cos + λ·p once training is done (in eval mode,
    /// without gradients; e.g. `RetrievalEvaluation.chooseRerankWeight` on a validation split);
    /// the final checkpoint's `preprocessing.json` records it, so `vlp evaluate`, `vlp search
    /// --rerank` and the server use it. Called only for a model with cross encoders; nil keeps λ = 1.
    public var chooseRerankWeight: ((PretrainingModel) throws -> Double)?
    /// Progress lines (stderr by default).
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    /// Stop (as if interrupted) after this many steps; for tests of resume.
    public var stopAfterStep: Int?
    /// Called after each step with its loss values (tests, custom hooks).
    public var onStep: ((Int, [String: Double]) -> Void)?
    /// fp16's dynamic loss scaling, as a run starts it (nil: no scaling). Tests give fp32 runs a
    /// scaler too, to exercise overflow skips without a GPU.
    var lossScaler: GradientScaler?

    /// The process group when the run is distributed (torchrun / Slurm / Open MPI variables
    /// with a world size above 1, e.g. under `vlp launch`).
    public let group: ProcessGroup?
    public let rank: Int
    public let worldSize: Int
    /// Rank 0 writes checkpoints, metrics and logs; the others only train.
    public var isMain: Bool { rank == 0 }

    public init(_ run: PretrainingRun, distributed: DistributedEnvironment? = nil) throws {
        self.pretrainingRun = run
        configuration = try run.resolvedModel()
        let environment = try distributed ?? DistributedEnvironment.fromEnvironment()
        let distributed = environment.flatMap { $0.worldSize > 1 ? $0 : nil }
        // One GPU per rank, as under torchrun: cuda:LOCAL_RANK, reduced by NCCL.
        var device = run.device
        if case .cuda = device, let distributed { device = .cuda(distributed.localRank) }
        try device.checkAvailable()
        if run.precision == .fp16, device == .cpu {
            throw ConfigError("precision: fp16 needs a CUDA device (libtorch's CPU autocast computes in bf16 only): use bf16 on the CPU")
        }
        self.device = device
        if let distributed {
            group = try ProcessGroup(distributed, backend: .forTensors(on: device))
            (rank, worldSize) = (distributed.rank, distributed.worldSize)
        } else {
            (group, rank, worldSize) = (nil, 0, 1)
        }
        manualSeed(run.seed)
        model = try PretrainingModel(configuration)
        try FineTuning.prepare(model, for: run)
        if run.activationCheckpointing, model.module.checkpointActivations() == 0 {
            throw ConfigError("activation_checkpointing: the \(configuration.architecture.rawValue) model has no transformer block stack to checkpoint")
        }
        try model.module.to(device)
        lossScaler = run.precision.scalesLoss ? GradientScaler() : nil
    }

    /// Training mode (dropout, batch statistics) for everything but what `lock:` / `freeze:` keep,
    /// which stays in eval mode: frozen means unchanged, and a frozen EfficientNet's batch norms
    /// would otherwise normalise by each batch and move their running statistics. (Under LoRA the
    /// frozen base weights still run in training mode, as with PEFT: dropout stays on.)
    func trainingMode() {
        model.module.train()
        for module in FineTuning.frozenModules(model, pretrainingRun.freeze) { module.eval() }
    }

    public var outputURL: URL { URL(fileURLWithPath: pretrainingRun.outputFolder) }
    public var checkpointsURL: URL { outputURL.appendingPathComponent("checkpoints") }

    public func run(resume: Bool = false) throws -> TrainingSummary {
        let run = pretrainingRun
        let started = Date()
        // The loader's workers need cores too: an intra-op thread that loses its core stalls
        // every parallel op at its barrier (measured on 2 cores with 2 workers and a build
        // running: 2 intra-op threads fell from ~110 to ~6 pairs/s, 1 thread kept ~100).
        // The caller's setting comes back when the run ends.
        let callerThreads = TorchThreads.intraOp
        if ProcessInfo.processInfo.environment["VLP_NUM_THREADS"] == nil {
            TorchThreads.intraOp = max(1, ProcessInfo.processInfo.activeProcessorCount - run.workers)
        }
        defer { TorchThreads.intraOp = callerThreads }
        try AtomicFile.makeFolder(outputURL.path)
        if isMain {
            let swept = try TrainingCheckpoint.sweep(in: checkpointsURL)
            if !swept.isEmpty {
                log("removed \(swept.count) unfinished checkpoint folder(s) an interrupted run left in \(checkpointsURL.path): \(swept.joined(separator: ", "))")
            }
        }
        // Only trainable parameters: frozen ones (lock:, freeze:, the base weights under LoRA) never
        // reach the optimizer. Layer-wise decay gives each tower depth its own learning-rate scale.
        let settings = run.optimizer
        let optimizer = AdamW(FineTuning.parameterGroups(model, settings: settings),
                              learningRate: settings.learningRate, betas: settings.betas, eps: settings.eps, weightDecay: settings.weightDecay)
        if isMain, let line = FineTuning.summary(model, for: run) { log(line) }
        // What the optimizer updates; fixed for the run (freezing happens when the trainer is made).
        let trainable = model.module.parameters().filter(\.requiresGrad)
        let total = run.totalSteps
        let schedule: LearningRateSchedule
        switch run.schedule.shape {
        case .linear: schedule = LearningRateSchedules.warmupLinear(peak: settings.learningRate, warmupSteps: run.warmupSteps, totalSteps: total)
        case .constant: schedule = { [w = run.warmupSteps, lr = settings.learningRate] step in step < w ? lr * Double(step + 1) / Double(w) : lr }
        case .cosine: schedule = LearningRateSchedules.warmupCosine(peak: settings.learningRate, warmupSteps: run.warmupSteps,
                                                                     totalSteps: total, minimum: run.schedule.minimumLearningRate)
        }

        var state = TrainerState(step: 0, stage: 0, stageStep: 0, loaderPosition: LoaderPosition(seed: run.seed), badSteps: 0,
                                 seed: run.seed, worldSize: worldSize)
        var resumedObjectives: [String: Tensor]?
        var scaler = lossScaler
        if resume, let latest = TrainingCheckpoint.latest(in: checkpointsURL, reporting: isMain ? log : { _ in }) {
            state = try TrainingCheckpoint.readState(latest.url)
            state.loaderPosition = state.loaderPosition(forWorldSize: worldSize)
            state.worldSize = worldSize
            try TrainingCheckpoint.loadWeights(into: model.module, from: latest.url)
            let optimizerURL = latest.url.appendingPathComponent(TrainingCheckpoint.optimizerFile)
            do { try optimizer.loadStateDict(SafeTensors.read(optimizerURL).tensors) } catch let error as TorchError {
                throw ModelError.invalidCheckpoint(source: optimizerURL.path, reason: "\(error) (a checkpoint saved without an optimizer cannot resume)")
            }
            resumedObjectives = try SafeTensors.read(latest.url.appendingPathComponent(TrainingCheckpoint.objectivesFile)).tensors
            if scaler != nil, let saved = state.lossScaling {
                try scaler?.restore(scale: saved.scale, goodSteps: saved.goodSteps, skippedSteps: saved.skippedSteps)
            }
            log("resumed from \(latest.url.path) at step \(state.step) (stage \(state.stage + 1), \(state.loaderPosition))")
        } else if resume {
            log("no checkpoint in \(checkpointsURL.path); starting from step 0")
        }
        // Each tower's initial real weights (the model configuration's `init`), at step 0 only and
        // before init_from, whose checkpoint then overrides them. They are copied into the existing
        // parameters, so the optimizer built above and the tower locks still hold.
        if state.step == 0 { try model.loadInitialWeights(log: log) }
        if state.step == 0, let initFrom = run.initFrom {
            let folder = try TrainingCheckpoint.resolve(initFrom)
            try TrainingCheckpoint.loadWeights(into: model.module, from: folder)
            log("initialised from \(folder.path)")
        }
        // Rank 0's weights everywhere (also after a resume: every rank read the same checkpoint),
        // gradients averaged across ranks by bucketed all-reduce during backward.
        let parallel = try group.map { try DataParallel(module: model.module, group: $0) }
        if !isMain { log = { _ in } }
        let metrics = isMain ? try MetricsLog(url: outputURL.appendingPathComponent("metrics.jsonl"), truncatingAfter: resume ? state.step : nil) : nil
        var lastCheckpoint: URL?
        var lastValues: [String: Double] = [:]
        var skipped = 0
        var dataSkips = ""

        // The stage of each step follows from the run description, so a resumed run may also extend or
        // add stages; a loader position carries over only within its own stage.
        while let (stageIndex, stageStart) = stageOf(step: state.step) {
            let stage = run.stages[stageIndex]
            let stageEnd = stageStart + stage.steps
            if stageIndex != state.stage {
                state.stage = stageIndex
                state.loaderPosition = LoaderPosition(seed: run.seed &+ UInt64(stageIndex))
            }
            let imageSize = configuration.vision.imageSize
            let objectives = try PretrainingLoss(recipe: stage.recipe, model: model, queueCapacity: run.distillation.queue,
                                                 patchMaskRatio: run.distillation.patchMaskRatio, teacherMomentum: run.distillation.momentum,
                                                 gather: group.map { DistributedGather(group: $0) as FeatureGather } ?? LocalGather())
            if let resumedObjectives { try objectives.loadStateDict(resumedObjectives) }
            resumedObjectives = nil
            let masking = stage.recipe.uses(.mlm) || stage.recipe.uses(.fgd)
            let loader = try DataLoader(source: try TrainingData.source(stage.data, imageSize: imageSize),
                                        transform: try TrainingData.transform(stage.data, imageSize: imageSize,
                                                                                      normalization: configuration.vision.inputNormalization,
                                                                                      masking: masking),
                                        options: .init(batchSize: run.batchSize, workers: run.workers,
                                                       assignment: try ShardAssignment(rank: rank, worldSize: worldSize), progress: false),
                                        startingAt: state.loaderPosition)
            defer { loader.stop() }
            trainingMode()
            var windowStart = Date(), windowPairs = 0
            while state.step < stageEnd {
                if let stop = stopAfterStep, state.step >= stop { return summary() }
                manualSeed(Self.stepSeed(run.seed, state.step))
                objectives.targetDistillation.alpha = run.distillation.alpha(atStep: state.step)
                optimizer.zeroGrad()
                var values: [String: Double] = [:]
                var finite = true
                func nextInputs() throws -> PretrainingInputs {
                    guard let batch = try loader.next() ?? loader.next() else {
                        throw TrainingStopped(message: "stage \(stage.name): the data gave no batch")
                    }
                    windowPairs += batch.count * worldSize
                    return try PretrainingInputs(batch, device: device)
                }
                // Every rank must take the same branch: skip when any rank's loss is not finite.
                func agreeFinite(_ current: inout [String: Double]) throws -> Bool {
                    if let group {
                        let localFinite = current.values.allSatisfy { $0.isFinite }
                        let flag = try Tensor([localFinite ? 0.0 : 1.0], shape: [1]).to(device: device)  // NCCL reduces GPU tensors
                        try group.allReduce(flag)
                        if try flag.item() > 0 { current["loss"] = Double.nan }
                    }
                    return current.values.allSatisfy { $0.isFinite }
                }
                // Gradients synchronise across ranks on a step's last backward only.
                func backward(_ loss: Tensor, last: Bool) throws {
                    if let parallel, !last {
                        try parallel.withoutGradientSynchronization { try loss.backward() }
                    } else {
                        try loss.backward()
                    }
                }
                if run.gradientAccumulation > 1, !objectives.batchWideObjectives.isEmpty {
                    // GradCache: GCPR / TgD over all K micro-batches at once (every negative kept).
                    let microBatches = try (0..<run.gradientAccumulation).map { _ in try nextInputs() }
                    let seeds = (0..<run.gradientAccumulation).map { Self.microBatchSeed(run.seed, state.step, $0) }
                    let outcome = try objectives.accumulated(model, microBatches: microBatches, seeds: seeds, lossScale: scaler?.scale ?? 1,
                                                             autocast: run.precision.autocastType, agreeFinite: agreeFinite,
                                                             backward: { try backward($0, last: $1) })
                    (values, finite) = (outcome.values, outcome.finite)
                } else {
                    for micro in 0..<run.gradientAccumulation {
                        let inputs = try nextInputs()
                        let terms = try withAutocast(on: device, dtype: run.precision.autocastType) { try objectives(model, inputs) }
                        var current: [String: Double] = try terms.values()
                        guard try agreeFinite(&current) else { finite = false; values = current; break }
                        var scaled = try terms.total * (1 / Double(run.gradientAccumulation))
                        if let scaler { scaled = try scaler.scaled(scaled) }
                        try backward(scaled, last: micro == run.gradientAccumulation - 1)
                        for (k, v) in current { values[k, default: 0] += v / Double(run.gradientAccumulation) }
                    }
                }
                if finite { try parallel?.synchronizeGradients() }
                // fp16: gradients back to their true size; an overflow skips the step (every
                // rank holds the same reduced gradients, so every rank decides alike).
                var overflowed = false
                if finite, var current = scaler {
                    let usedScale = current.scale
                    overflowed = try !current.unscaleGradients(trainable)
                    current.update(finite: !overflowed)
                    scaler = current
                    if overflowed {
                        log("step \(state.step + 1): fp16 gradients overflowed at loss scale \(usedScale); step skipped, scale now \(current.scale)")
                        try metrics?.append(["step": state.step + 1, "skipped": true, "reason": "fp16 overflow", "loss_scale": current.scale])
                    }
                }
                let learningRate = schedule(state.step)
                if overflowed {
                    skipped += 1  // the scaler's decision, not a bad step: the loss was finite
                } else if finite {
                    if settings.clipNorm > 0 { try clipGradientNorm(trainable, maxNorm: settings.clipNorm) }
                    optimizer.learningRate = learningRate
                    try optimizer.step()
                    try objectives.afterOptimizerStep(model)
                    state.badSteps = 0
                } else {
                    state.badSteps += 1
                    skipped += 1
                    let terms = values.map { "\($0.key) \($0.value)" }.sorted().joined(separator: ", ")
                    log("step \(state.step + 1): non-finite loss (\(terms)); step skipped (\(state.badSteps) in a row)")
                    try metrics?.append(["step": state.step + 1, "skipped": true, "reason": "non-finite loss"])
                    if state.badSteps >= run.maxBadSteps {
                        let good = lastCheckpoint ?? TrainingCheckpoint.list(in: checkpointsURL).last?.url
                        throw TrainingStopped(message: "stopped: \(state.badSteps) non-finite losses in a row at step \(state.step + 1); the last good checkpoint is \(good?.path ?? "none (no checkpoint was written yet)")")
                    }
                }
                state.step += 1
                state.stageStep = state.step - stageStart
                state.loaderPosition = loader.position
                onStep?(state.step, values)
                if finite { lastValues = values }
                if finite && (state.step % run.logEvery == 0 || state.step == stageEnd) {
                    let seconds = max(1e-9, Date().timeIntervalSince(windowStart))
                    let rate = Double(windowPairs) / seconds
                    var record: [String: Any] = ["step": state.step, "stage": stage.name, "lr": learningRate, "pairs_per_second": rate]
                    if let scaler { record["loss_scale"] = scaler.scale; record["overflow_skips"] = scaler.skippedSteps }
                    for (k, v) in values { record[k] = v }
                    try metrics?.append(record)
                    let remaining = Double(total - state.step) * Double(run.batchSize * run.gradientAccumulation) / max(rate, 1e-9)
                    let terms = values.filter { $0.key != "loss" }.sorted { $0.key < $1.key }
                        .map { "\($0.key) \(String(format: "%.3f", $0.value))" }.joined(separator: " ")
                    log("[\(stage.name)] step \(state.step)/\(total)  loss \(String(format: "%.4f", values["loss"] ?? .nan)) (\(terms))  lr \(String(format: "%.2e", learningRate))  \(String(format: "%.0f", rate)) pairs/s  ETA \(Self.duration(remaining))")
                    windowStart = Date(); windowPairs = 0
                }
                if isMain, run.evaluation.every > 0, state.step % run.evaluation.every == 0 || state.step == total, let evaluate {
                    model.module.eval()
                    let results = try withNoGrad { try evaluate(model, state.step) }
                    trainingMode()
                    try metrics?.append(["step": state.step, "eval": results])
                    log("[eval] step \(state.step): " + results.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2f", $0.value))" }.joined(separator: "  "))
                }
                // No checkpoint during a run of non-finite losses: the last good one stays the latest.
                if isMain, state.badSteps == 0, state.step % run.checkpointEvery == 0 || state.step == total {
                    state.contextLength = stage.data.contextLength
                    state.lossScaling = scaler.map(TrainerState.LossScaling.init)
                    var preprocessing = ModelPreprocessing.trained(configuration: configuration, tokenizer: stage.data.tokenizer,
                                                                   contextLength: stage.data.contextLength, resize: stage.data.imageResize)
                    if state.step == total, model.pairScorer != nil, let chooseRerankWeight {
                        model.module.eval()
                        preprocessing.rerankWeight = try withNoGrad { try chooseRerankWeight(model) }
                        trainingMode()
                    }
                    lastCheckpoint = try TrainingCheckpoint.save(in: checkpointsURL, state: state, model: model.module,
                                                                 configuration: configuration,
                                                                 bundle: (preprocessing, URL(fileURLWithPath: AssetFile.locate(stage.data.vocabularyFile))),
                                                                 optimizer: optimizer,
                                                                 objectives: objectives.stateDict(), keep: run.checkpoints.keep)
                }
            }
            dataSkips = loader.report.description
        }
        model.module.eval()
        return summary()

        func summary() -> TrainingSummary {
            TrainingSummary(steps: state.step, seconds: Date().timeIntervalSince(started), skippedSteps: skipped,
                            lastLoss: lastValues, checkpoint: lastCheckpoint, dataSkips: dataSkips)
        }
    }

    /// The stage that step `step` (0-based) belongs to and the stage's first step; nil past the end.
    func stageOf(step: Int) -> (index: Int, start: Int)? {
        var start = 0
        for (index, stage) in pretrainingRun.stages.enumerated() {
            if step < start + stage.steps { return (index, start) }
            start += stage.steps
        }
        return nil
    }

    /// The generator seed of micro-batch `micro` of an accumulated step (its two forwards draw
    /// the same dropout): a SplitMix64 mix of (seed, step, micro).
    static func microBatchSeed(_ seed: UInt64, _ step: Int, _ micro: Int) -> UInt64 {
        var rng = SplitMix64(seed: stepSeed(seed, step), stream: "micro-batch", index: micro)
        return rng.next()
    }

    /// The generator seed of one step: a SplitMix64 mix of (seed, step).
    static func stepSeed(_ seed: UInt64, _ step: Int) -> UInt64 {
        var rng = SplitMix64(seed: seed, stream: "trainer-step", index: step)
        return rng.next()
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" : s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}
