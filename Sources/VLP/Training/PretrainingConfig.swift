import Foundation

/// Where a run's samples come from and how they become tensors (the `data:` section).
public struct TrainingDataConfig: Equatable, Sendable {
    public enum Source: Equatable, Sendable {
        /// The built-in Scenes corpus: `size` items (80% train), generated in memory.
        case scenes(size: Int, seed: UInt64, languages: [String], set: String, split: String)
        /// A dataset on disk in a format `DatasetFormat` reads; `split` names one of its parts
        /// (needed when it holds several, e.g. a Chinese-CLIP folder's train / valid / test).
        case dataset(path: String, format: String?, split: String? = nil)
    }

    public var source: Source
    /// Token positions per text, special tokens included.
    public var contextLength: Int
    /// Allowed text kinds (nil: all positives).
    public var textKinds: [String]?
    /// Allowed languages (nil: all).
    public var languages: [String]?
    /// Fraction of tokens masked for MLM / FgD / ET.
    public var maskRatio: Double
    /// The BERT vocabulary file.
    public var vocabulary: String
    /// Random resized crops (0.9–1 scale) instead of resize + centre crop.
    public var augment: Bool
    /// Hard-negative texts are candidates too (matching sets, with their 0/1 labels).
    public var includeNegatives: Bool = false

    public static let keys = ["source", "size", "seed", "languages", "set", "split", "path", "format", "context_length",
                              "text_kinds", "mask_ratio", "vocabulary", "augment", "include_negatives"]

    public init(source: Source, contextLength: Int = 32, textKinds: [String]? = nil, languages: [String]? = nil,
                maskRatio: Double = 0.15, vocabulary: String = "assets/cn-clip/vocab.txt", augment: Bool = false) {
        self.source = source
        self.contextLength = contextLength
        self.textKinds = textKinds
        self.languages = languages
        self.maskRatio = maskRatio
        self.vocabulary = vocabulary
        self.augment = augment
    }

    init(_ r: ConfigReader) throws {
        try r.checkKeys(Self.keys)
        let kind = try r.choice("source", allowed: ["scenes", "dataset"], default: r.has("path") ? "dataset" : "scenes")
        let languages = try r.strings("languages")
        if kind == "scenes" {
            let sets = ["pretrain", "icm", "iqm", "icr", "iqr"], splits = ["train", "valid", "test"]
            source = .scenes(size: try r.int("size", default: 1000, range: 10...10_000_000),
                             seed: UInt64(try r.int("seed", default: 7, range: 0...Int.max)),
                             languages: languages ?? ["zh", "en"],
                             set: try r.choice("set", allowed: sets, default: "pretrain"),
                             split: try r.choice("split", allowed: splits, default: "train"))
        } else {
            guard let path = try r.string("path") else { throw r.fail("path", "a dataset source needs path: (a folder or file)") }
            let format = try r.string("format")
            if let format, DatasetFormat(rawValue: format) == nil {
                throw r.fail("format", "\"\(format)\" is not allowed; allowed values: \(DatasetFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            source = .dataset(path: path, format: format, split: try r.string("split"))
        }
        contextLength = try r.int("context_length", default: 32, range: 4...512)
        textKinds = try r.strings("text_kinds")
        for kind in textKinds ?? [] where TextKind(rawValue: kind) == nil {
            throw r.fail("text_kinds", "\"\(kind)\" is not allowed; allowed values: \(TextKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.languages = kind == "scenes" ? nil : languages
        maskRatio = try r.double("mask_ratio", default: 0.15, range: 0.01...0.9)
        vocabulary = try r.string("vocabulary", default: "assets/cn-clip/vocab.txt")
        augment = try r.bool("augment", default: false)
        includeNegatives = try r.bool("include_negatives", default: false)
    }
}

/// One stage of a multi-stage schedule (ImageBERT pretrains in stages on different data).
public struct TrainingStage: Equatable, Sendable {
    public var name: String
    public var steps: Int
    public var recipe: PretrainingRecipe
    public var data: TrainingDataConfig
}

/// A pretraining run, as `vlp pretrain --config FILE.yaml` reads it. Every key is checked:
/// unknown keys and bad values are errors naming the key, its line and the allowed values.
///
/// ```yaml
/// model: r2d2-tiny              # a named configuration or a JSON file
/// recipe: r2d2                  # a preset, or {name:, weights: {gcpr: 1, …}, enhanced_training: true}
/// data: {source: scenes, size: 2000, context_length: 32}
/// steps: 300                    # or stages: [{name:, steps:, data:, recipe:}, …]
/// batch_size: 32
/// gradient_accumulation: 1
/// optimizer: {lr: 5.0e-4, weight_decay: 0.05, betas: [0.9, 0.98], clip_norm: 1.0}
/// schedule: {name: cosine, warmup_steps: 20}
/// seed: 0
/// output: runs/r2d2-tiny
/// checkpoint: {every: 100, keep: 2}
/// evaluation: {every: 100, data: {source: scenes, set: icr, split: valid}}
/// ```
public struct PretrainingConfig: Sendable {
    public var modelName: String
    public var model: VLPModelConfiguration
    public var stages: [TrainingStage]
    public var batchSize: Int
    public var gradientAccumulation: Int
    public var learningRate: Double
    public var weightDecay: Double
    public var betas: (Double, Double)
    public var eps: Double
    /// Gradient-norm clipping; 0 turns it off.
    public var clipNorm: Double
    /// `cosine`, `linear` or `constant`, with linear warm-up.
    public var schedule: String
    public var warmupSteps: Int
    public var minimumLearningRate: Double
    public var seed: UInt64
    public var output: String
    public var checkpointEvery: Int
    public var keepCheckpoints: Int
    public var logEvery: Int
    public var evaluationEvery: Int
    public var evaluationData: TrainingDataConfig?
    public var workers: Int
    /// Consecutive non-finite losses before the run stops.
    public var maxBadSteps: Int
    public var queueCapacity: Int
    public var teacherMomentum: Double
    public var patchMaskRatio: Double
    /// A checkpoint (folder or run) whose weights start the run (fine-tuning); nil starts from
    /// the configuration's initialisation.
    public var initFrom: String?

    public var totalSteps: Int { stages.reduce(0) { $0 + $1.steps } }

    static let topKeys = ["model", "recipe", "data", "steps", "stages", "batch_size", "gradient_accumulation", "optimizer",
                          "schedule", "seed", "output", "checkpoint", "log_every", "evaluation", "workers", "max_bad_steps",
                          "distillation", "init_from"]

    public static func load(contentsOf url: URL) throws -> PretrainingConfig {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ConfigError("\(url.path): cannot read the config: \(error.localizedDescription)")
        }
        return try PretrainingConfig(yaml: text, source: url.path)
    }

    public init(yaml: String, source: String = "config") throws {
        let r = try ConfigReader(yaml: yaml, source: source)
        try r.checkKeys(Self.topKeys)
        guard let name = try r.string("model") else { throw r.fail("model", "missing: name a configuration (\(ModelConfigurationRegistry.list().joined(separator: ", "))) or a JSON file") }
        modelName = name
        do {
            model = name.hasSuffix(".json") ? try ModelConfigurationRegistry.load(contentsOf: URL(fileURLWithPath: name))
                                            : try ModelConfigurationRegistry.load(name)
        } catch {
            throw ConfigError("\(source): model: \(error)")
        }
        let defaultRecipe = try Self.recipe(r, "recipe")
        let defaultData = try r.section("data").map(TrainingDataConfig.init)
        if let stageReaders = try r.sections("stages") {
            guard !r.has("steps") else { throw r.fail("steps", "give either steps: or stages:, not both") }
            guard !stageReaders.isEmpty else { throw r.fail("stages", "the list is empty") }
            stages = try stageReaders.enumerated().map { index, s in
                try s.checkKeys(["name", "steps", "recipe", "data"])
                guard let steps = try s.optionalInt("steps", range: 1...100_000_000) else { throw s.fail("steps", "missing: how many optimizer steps this stage runs") }
                guard let data = try s.section("data").map(TrainingDataConfig.init) ?? defaultData else {
                    throw s.fail("data", "missing: this stage has no data and the config has no top-level data:")
                }
                guard let recipe = try Self.recipe(s, "recipe") ?? defaultRecipe else { throw s.fail("recipe", "missing, and no top-level recipe:") }
                return TrainingStage(name: try s.string("name", default: "stage\(index + 1)"), steps: steps, recipe: recipe, data: data)
            }
        } else {
            guard let steps = try r.optionalInt("steps", range: 1...100_000_000) else { throw r.fail("steps", "missing: how many optimizer steps to run (or stages:)") }
            guard let data = defaultData else { throw r.fail("data", "missing: where the samples come from, e.g. data: {source: scenes, size: 2000}") }
            guard let recipe = defaultRecipe else { throw r.fail("recipe", "missing: one of \(PretrainingRecipe.presets.map(\.name).joined(separator: ", ")) or a weights table") }
            stages = [TrainingStage(name: "pretrain", steps: steps, recipe: recipe, data: data)]
        }
        batchSize = try r.int("batch_size", default: 32, range: 2...65536)
        gradientAccumulation = try r.int("gradient_accumulation", default: 1, range: 1...1024)
        let optimizer = try r.section("optimizer")
        try optimizer?.checkKeys(["name", "lr", "weight_decay", "betas", "eps", "clip_norm"])
        _ = try optimizer?.choice("name", allowed: ["adamw"], default: "adamw")
        learningRate = try optimizer?.double("lr", default: 5e-4, range: 0...10) ?? 5e-4
        weightDecay = try optimizer?.double("weight_decay", default: 0.05, range: 0...10) ?? 0.05
        let betaList = try optimizer?.doubles("betas") ?? [0.9, 0.98]
        guard betaList.count == 2, betaList.allSatisfy({ (0..<1).contains($0) }) else {
            throw optimizer!.fail("betas", "expected two numbers in [0, 1), e.g. [0.9, 0.98]")
        }
        betas = (betaList[0], betaList[1])
        eps = try optimizer?.double("eps", default: 1e-6, range: 0...1) ?? 1e-6
        clipNorm = try optimizer?.double("clip_norm", default: 1.0, range: 0...1e6) ?? 1.0
        let schedule = try r.section("schedule")
        try schedule?.checkKeys(["name", "warmup_steps", "min_lr"])
        self.schedule = try schedule?.choice("name", allowed: ["cosine", "linear", "constant"], default: "cosine") ?? "cosine"
        let total = stages.reduce(0) { $0 + $1.steps }
        warmupSteps = try schedule?.int("warmup_steps", default: min(100, total / 10), range: 0...total) ?? min(100, total / 10)
        minimumLearningRate = try schedule?.double("min_lr", default: 0, range: 0...10) ?? 0
        seed = UInt64(try r.int("seed", default: 0, range: 0...Int.max))
        output = try r.string("output", default: "runs/\(modelName)")
        let checkpoint = try r.section("checkpoint")
        try checkpoint?.checkKeys(["every", "keep"])
        checkpointEvery = try checkpoint?.int("every", default: max(1, total / 4), range: 1...Int.max) ?? max(1, total / 4)
        keepCheckpoints = try checkpoint?.int("keep", default: 2, range: 1...1000) ?? 2
        logEvery = try r.int("log_every", default: 10, range: 1...Int.max)
        let evaluation = try r.section("evaluation")
        try evaluation?.checkKeys(["every", "data"])
        evaluationEvery = try evaluation?.int("every", default: 0, range: 0...Int.max) ?? 0
        evaluationData = try evaluation?.section("data").map(TrainingDataConfig.init)
        workers = try r.int("workers", default: 2, range: 1...256)
        maxBadSteps = try r.int("max_bad_steps", default: 5, range: 1...1000)
        let distillation = try r.section("distillation")
        try distillation?.checkKeys(["queue", "momentum", "patch_mask_ratio"])
        queueCapacity = try distillation?.int("queue", default: 256, range: 1...1_000_000) ?? 256
        teacherMomentum = try distillation?.double("momentum", default: 0.995, range: 0...1) ?? 0.995
        patchMaskRatio = try distillation?.double("patch_mask_ratio", default: 0.3, range: 0...0.95) ?? 0.3
        initFrom = try r.string("init_from")
        for stage in stages {
            do { try PretrainingModel.checkSupport(configuration: model, recipe: stage.recipe) } catch {
                throw ConfigError("\(source): stage \"\(stage.name)\": \(error)")
            }
        }
    }

    /// `recipe:` as a preset name or a table {name, weights, enhanced_training}.
    static func recipe(_ r: ConfigReader, _ key: String) throws -> PretrainingRecipe? {
        guard r.has(key) else { return nil }
        if r.isScalar(key) {
            let name = try r.string(key)!
            guard let preset = PretrainingRecipe.presets.first(where: { $0.name == name }) else {
                throw r.fail(key, "unknown recipe \"\(name)\"; allowed values: \(PretrainingRecipe.presets.map(\.name).joined(separator: ", ")), or a table with weights:")
            }
            return preset
        }
        let s = try r.section(key)!
        try s.checkKeys(["name", "base", "weights", "enhanced_training"])
        var recipe = PretrainingRecipe(name: "custom", weights: [:])
        if let base = try s.string("base") {
            guard let preset = PretrainingRecipe.presets.first(where: { $0.name == base }) else {
                throw s.fail("base", "unknown recipe \"\(base)\"; allowed values: \(PretrainingRecipe.presets.map(\.name).joined(separator: ", "))")
            }
            recipe = preset
        }
        recipe.name = try s.string("name", default: recipe.name)
        for (name, weight) in try s.numberTable("weights") ?? [] {
            guard let objective = PretrainingRecipe.Objective(rawValue: name) else {
                throw s.fail("weights", "unknown objective \"\(name)\"; allowed values: \(PretrainingRecipe.Objective.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            recipe.weights[objective] = weight
        }
        recipe.enhancedTraining = try s.bool("enhanced_training", default: recipe.enhancedTraining)
        return recipe
    }
}
