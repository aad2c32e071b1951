import Foundation
import Torch
import Yams

// Decoding a run from YAML (`vlp pretrain --config FILE.yaml`). Every key is checked: unknown
// keys and bad values are errors naming the key, its line and the allowed values. Each value
// starts from the struct's own default (`PretrainingRun.init`, the settings' and the data
// factories' arguments) and is replaced where the file gives one.
extension PretrainingRun {
    static let topKeys = ["model", "recipe", "data", "steps", "stages", "batch_size", "gradient_accumulation", "optimizer",
                          "schedule", "seed", "output", "checkpoint", "log_every", "evaluation", "workers", "max_bad_steps",
                          "distillation", "init_from", "device", "lock", "freeze", "lora", "precision", "activation_checkpointing"]

    public static func load(contentsOf url: URL) throws -> PretrainingRun {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ConfigError("\(url.path): cannot read the config: \(error.localizedDescription)")
        }
        return try PretrainingRun(yaml: text, source: url.path)
    }

    public init(yaml: String, source: String = "config") throws {
        let r = try ConfigReader(yaml: yaml, source: source)
        try r.checkKeys(Self.topKeys)
        let model = try Self.model(r)
        let configuration: VLPModelConfiguration
        do { configuration = try model.resolve() } catch { throw ConfigError("\(source): model: \(error)") }
        let defaultRecipe = try Self.recipe(r, "recipe")
        let defaultData = try r.section("data").map(TrainingDataDescription.init)
        let stages: [TrainingStage]
        if let stageReaders = try r.sections("stages") {
            guard !r.has("steps") else { throw r.fail("steps", "give either steps: or stages:, not both") }
            guard !stageReaders.isEmpty else { throw r.fail("stages", "the list is empty") }
            stages = try stageReaders.enumerated().map { index, s in
                try s.checkKeys(["name", "steps", "recipe", "data"])
                guard let steps = try s.optionalInt("steps", range: 1...100_000_000) else { throw s.fail("steps", "missing: how many optimizer steps this stage runs") }
                guard let data = try s.section("data").map(TrainingDataDescription.init) ?? defaultData else {
                    throw s.fail("data", "missing: this stage has no data and the config has no top-level data:")
                }
                guard let recipe = try Self.recipe(s, "recipe") ?? defaultRecipe else { throw s.fail("recipe", "missing, and no top-level recipe:") }
                return TrainingStage(name: try s.string("name", default: "stage\(index + 1)"), steps: steps, recipe: recipe, data: data)
            }
        } else {
            guard let steps = try r.optionalInt("steps", range: 1...100_000_000) else { throw r.fail("steps", "missing: how many optimizer steps to run (or stages:)") }
            guard let data = defaultData else { throw r.fail("data", "missing: where the samples come from, e.g. data: {source: scenes, size: 2000}") }
            guard let recipe = defaultRecipe else { throw r.fail("recipe", "missing: one of \(PretrainingRecipe.presets.map(\.name).joined(separator: ", ")) or a weights table") }
            stages = [TrainingStage(name: Self.singleStageName, steps: steps, recipe: recipe, data: data)]
        }
        self.init(model: model, recipe: stages[0].recipe, data: stages[0].data, steps: stages[0].steps)
        self.stages = stages
        batchSize = try r.int("batch_size", default: batchSize, range: 2...65536)
        gradientAccumulation = try r.int("gradient_accumulation", default: gradientAccumulation, range: 1...1024)
        if let o = try r.section("optimizer") {
            try o.checkKeys(["name", "lr", "weight_decay", "betas", "eps", "clip_norm", "layer_decay"])
            _ = try o.choice("name", allowed: ["adamw"], default: "adamw")
            optimizer.learningRate = try o.double("lr", default: optimizer.learningRate, range: 0...10)
            optimizer.weightDecay = try o.double("weight_decay", default: optimizer.weightDecay, range: 0...10)
            if let betas = try o.doubles("betas") {
                guard betas.count == 2, betas.allSatisfy({ (0..<1).contains($0) }) else {
                    throw o.fail("betas", "expected two numbers in [0, 1), e.g. [0.9, 0.98]")
                }
                optimizer.betas = (betas[0], betas[1])
            }
            optimizer.eps = try o.double("eps", default: optimizer.eps, range: 0...1)
            optimizer.clipNorm = try o.double("clip_norm", default: optimizer.clipNorm, range: 0...1e6)
            optimizer.layerDecay = try o.double("layer_decay", default: optimizer.layerDecay, range: 1e-6...1)
        }
        let total = totalSteps
        if let s = try r.section("schedule") {
            try s.checkKeys(["name", "warmup_steps", "min_lr"])
            schedule.shape = try s.choice("name", default: schedule.shape)
            schedule.warmupSteps = try s.optionalInt("warmup_steps", range: 0...total) ?? schedule.warmupSteps
            schedule.minimumLearningRate = try s.double("min_lr", default: schedule.minimumLearningRate, range: 0...10)
        }
        seed = UInt64(try r.int("seed", default: Int(seed), range: 0...Int.max))
        output = try r.string("output") ?? output
        if let c = try r.section("checkpoint") {
            try c.checkKeys(["every", "keep"])
            checkpoints.every = try c.optionalInt("every", range: 1...Int.max) ?? checkpoints.every
            checkpoints.keep = try c.int("keep", default: checkpoints.keep, range: 1...1000)
        }
        logEvery = try r.int("log_every", default: logEvery, range: 1...Int.max)
        if let e = try r.section("evaluation") {
            try e.checkKeys(["every", "data"])
            evaluation.every = try e.int("every", default: evaluation.every, range: 0...Int.max)
            evaluation.data = try e.section("data").map(TrainingDataDescription.init) ?? evaluation.data
        }
        workers = try r.int("workers", default: workers, range: 1...256)
        maxBadSteps = try r.int("max_bad_steps", default: maxBadSteps, range: 1...1000)
        if let d = try r.section("distillation") {
            try d.checkKeys(["queue", "momentum", "patch_mask_ratio", "alpha", "alpha_ramp_steps"])
            distillation.queue = try d.int("queue", default: distillation.queue, range: 1...1_000_000)
            distillation.momentum = try d.double("momentum", default: distillation.momentum, range: 0...1)
            distillation.patchMaskRatio = try d.double("patch_mask_ratio", default: distillation.patchMaskRatio, range: 0...0.95)
            distillation.alpha = try d.double("alpha", default: distillation.alpha, range: 0...1)
            distillation.alphaRampSteps = try d.int("alpha_ramp_steps", default: distillation.alphaRampSteps, range: 0...Int.max)
        }
        initFrom = try r.string("init_from") ?? initFrom
        if let text = try r.string("device") {
            do { device = try Device(parsing: text) } catch { throw r.notAllowed("device", text, ["cpu", "cuda", "cuda:N"]) }
        }
        lock = try r.choices("lock", as: Tower.self).map(Set.init) ?? lock
        if let f = try r.section("freeze") {
            try f.checkKeys(Tower.allCases.map(\.rawValue))
            for tower in Tower.allCases where f.has(tower.rawValue) {
                guard !lock.contains(tower) else {
                    throw f.fail(tower.rawValue, "the \(tower.rawValue) tower is also in lock:; give it in one of them (freeze: {\(tower.rawValue): all} is lock: [\(tower.rawValue)])")
                }
                freeze[tower] = try Self.freezing(f, tower.rawValue)
            }
        }
        if let l = try r.section("lora") {
            try l.checkKeys(["rank", "alpha", "dropout", "targets", "also_train"])
            var settings = LoRA()
            settings.rank = try l.int("rank", default: settings.rank, range: 1...4096)
            settings.alpha = try l.double("alpha", default: settings.alpha, range: 1e-6...1e6)
            settings.dropout = try l.double("dropout", default: settings.dropout, range: 0...0.99)
            if let targets = try l.choices("targets", as: LoRA.Target.self) {
                guard !targets.isEmpty else { throw l.fail("targets", "the list is empty; allowed values: \(LoRA.Target.allCases.map(\.rawValue).joined(separator: ", "))") }
                settings.targets = Set(targets)
            }
            settings.alsoTrain = Set(try l.choices("also_train", as: LoRA.WholePart.self) ?? [])
            lora = settings
        }
        precision = try r.choice("precision", default: precision)
        if precision == .fp16, device == .cpu {
            throw r.fail("precision", "fp16 needs a CUDA device (libtorch's CPU autocast computes in bf16 only): use bf16 on the CPU")
        }
        activationCheckpointing = try r.bool("activation_checkpointing", default: activationCheckpointing)
        for stage in stages {
            do {
                try PretrainingModel.checkSupport(configuration: configuration, recipe: stage.recipe)
            } catch {
                throw ConfigError("\(source): stage \"\(stage.name)\": \(error)")
            }
        }
    }

    /// One tower's `freeze:` value: `all` or `{except_last: N}`.
    static func freezing(_ r: ConfigReader, _ key: String) throws -> Freezing {
        let allowed = ["all", "{except_last: N}"]
        if r.isScalar(key) {
            let value = try r.string(key)!
            guard value == "all" else { throw r.notAllowed(key, value, allowed) }
            return .all
        }
        guard let s = try r.section(key) else { throw r.fail(key, "expected one of \(allowed.joined(separator: ", "))") }
        try s.checkKeys(["except_last"])
        guard let blocks = try s.optionalInt("except_last", range: 0...100_000) else {
            throw s.fail("except_last", "missing: how many of the tower's last blocks train, e.g. {except_last: 2}")
        }
        return .allButLast(blocks: blocks)
    }

    /// `model:` as a configuration name, a `.json` file, or a configuration written out as a mapping.
    static func model(_ r: ConfigReader) throws -> ModelChoice {
        guard r.has("model") else {
            throw r.fail("model", "missing: name a configuration (\(ModelConfigurationRegistry.list().joined(separator: ", "))) or a JSON file")
        }
        if r.isScalar("model") {
            let name = try r.string("model")!
            return name.hasSuffix(".json") ? .file(name) : .named(name)
        }
        guard let text = try r.yamlText("model"), (try r.section("model")) != nil else {
            throw r.fail("model", "expected a configuration name, a .json file or a configuration mapping")
        }
        do { return .configuration(try YAMLDecoder().decode(VLPModelConfiguration.self, from: text)) } catch {
            throw r.fail("model", "not a model configuration: \(error)")
        }
    }

    /// `recipe:` as a preset name or a table {name, base, weights, enhanced_training, hard_negatives}.
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
        try s.checkKeys(["name", "base", "weights", "enhanced_training", "hard_negatives"])
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
        if let h = try s.section("hard_negatives") {
            try h.checkKeys(["weighting", "positives", "rewrites", "uniform_fraction"])
            recipe.hardNegatives.uniformFraction = try h.double("uniform_fraction", default: recipe.hardNegatives.uniformFraction, range: 0...1)
            recipe.hardNegatives.weighting = try h.choice("weighting", default: recipe.hardNegatives.weighting)
            recipe.hardNegatives.positives = try h.choice("positives", default: recipe.hardNegatives.positives)
            recipe.hardNegatives.rewrites = try h.bool("rewrites", default: recipe.hardNegatives.rewrites)
            if recipe.hardNegatives.rewrites, recipe.enhancedTraining {
                throw h.fail("rewrites", "rewritten negatives are unmasked texts: set enhanced_training: false (with Enhanced Training every FGR text is masked)")
            }
        }
        return recipe
    }
}

extension TrainingDataDescription {
    /// `source:` values; without it, `prompts:` means labelled images and `path:` a dataset.
    enum SourceKind: String, CaseIterable {
        case scenes, dataset
        case labelledImages = "labelled_images"

        /// The keys this kind of source reads, besides the common ones.
        var keys: [String] {
            switch self {
            case .scenes: return ["size", "seed", "languages", "set", "split"]
            case .dataset: return ["path", "format", "split", "languages"]
            case .labelledImages: return ["path", "format", "split", "prompts", "classes"]
            }
        }
    }

    static let commonKeys = ["source", "context_length", "text_kinds", "mask_ratio", "whole_word_masking", "tokenizer", "vocabulary", "augment",
                             "image_resize", "include_negatives", "rewrites", "retrieved_negatives", "regions"]

    /// Named class-name sets `classes:` may give instead of lists.
    static let namedClasses: [String: ClassNames] = ["fashion-mnist": IDXLabels.fashionMNISTClasses]

    /// A `data:` section.
    init(_ r: ConfigReader) throws {
        let kind = try r.choice("source", default: r.has("prompts") ? SourceKind.labelledImages : r.has("path") ? .dataset : .scenes)
        try r.checkKeys(Self.commonKeys + kind.keys)
        switch kind {
        case .scenes:
            guard case .scenes(let size, let seed, let languages, let set, let split) = Self.scenes().source else { preconditionFailure() }
            self = .scenes(size: try r.int("size", default: size, range: 10...10_000_000),
                           seed: UInt64(try r.int("seed", default: Int(seed), range: 0...Int.max)),
                           languages: try r.strings("languages") ?? languages,
                           set: try r.choice("set", default: set), split: try r.choice("split", default: split))
        case .dataset:
            guard let path = try r.string("path") else { throw r.fail("path", "a dataset source needs path: (a folder or file)") }
            self = .dataset(path: path, format: try r.optionalChoice("format"), split: try r.string("split"),
                            languages: try r.strings("languages"))
        case .labelledImages:
            guard let path = try r.string("path") else { throw r.fail("path", "a labelled image source needs path: (idx files or one folder per class)") }
            let format = try r.optionalChoice("format", as: DatasetFormat.self)
            if let format, !Self.labelledImageFormats.contains(format) {
                throw r.notAllowed("format", format.rawValue, Self.labelledImageFormats.map(\.rawValue))
            }
            guard case .labelledImages(_, _, _, var prompts, var classes) = Self.labelledImages(path: path).source else { preconditionFailure() }
            if let table = try r.listTable("prompts") {
                for (language, templates) in table {
                    for template in templates where !template.contains(PromptTemplates.placeholder) {
                        throw r.fail("prompts", "the \(language) template \"\(template)\" has no \(PromptTemplates.placeholder) for the class name")
                    }
                }
                prompts = PromptTemplates(byLanguage: Dictionary(uniqueKeysWithValues: table))
            }
            if r.isScalar("classes") {
                let name = try r.string("classes")!
                guard let named = Self.namedClasses[name] else { throw r.notAllowed("classes", name, Self.namedClasses.keys.sorted() + ["{LANGUAGE: [NAME, …]}"]) }
                classes = named
            } else if let table = try r.listTable("classes") {
                classes = ClassNames(byLanguage: Dictionary(uniqueKeysWithValues: table))
            }
            if let classes {
                let missing = prompts.byLanguage.keys.filter { classes.byLanguage[$0] == nil }.sorted()
                guard missing.isEmpty else {
                    throw r.fail("classes", "no class names in \(missing.joined(separator: ", ")), which prompts: has templates for")
                }
            }
            self = .labelledImages(path: path, format: format, split: try r.string("split"), prompts: prompts, classes: classes)
        }
        contextLength = try r.int("context_length", default: contextLength, range: 4...512)
        textKinds = try r.choices("text_kinds") ?? textKinds
        maskRatio = try r.double("mask_ratio", default: maskRatio, range: 0.01...0.9)
        wholeWordMasking = try r.bool("whole_word_masking", default: wholeWordMasking)
        tokenizer = try r.choice("tokenizer", default: tokenizer)
        vocabulary = try r.string("vocabulary") ?? vocabulary
        augment = try r.bool("augment", default: augment)
        imageResize = try r.choice("image_resize", default: imageResize)
        includeNegatives = try r.bool("include_negatives", default: includeNegatives)
        rewrites = try r.int("rewrites", default: rewrites, range: 0...64)
        retrievedNegatives = try r.int("retrieved_negatives", default: retrievedNegatives, range: 0...64)
        regions = try r.string("regions") ?? regions
        if retrievedNegatives > 0, !source.isScenes {
            throw r.fail("retrieved_negatives", "retrieved negatives are computed over the samples in memory: the scenes source only (a dataset's own rewrites serve as they are)")
        }
    }
}
