import Foundation
import Yams

// Writing a run back as YAML: the text `PretrainingRun(yaml:)` decodes to an equal run. The
// demo and `vlp finetune` record their runs this way (`OUTPUT/r2d2.yaml`, `finetune.yaml`).
// Every value is written, defaults included, so the file states the whole run; values left
// nil (warm-up, checkpoint interval, output, vocabulary) are left out and keep their meaning.
extension PretrainingRun {
    /// The run as a YAML document.
    public func yaml() throws -> String {
        var top: [(String, Node)] = [("model", try YAMLWriting.model(model))]
        if let initFrom { top.append(("init_from", YAMLWriting.text(initFrom))) }
        if stages.count == 1, let stage = stages.first, stage.name == Self.singleStageName {
            top += [("recipe", YAMLWriting.recipe(stage.recipe)), ("data", YAMLWriting.data(stage.data)),
                    ("steps", YAMLWriting.number(stage.steps))]
        } else {
            top.append(("stages", .sequence(.init(stages.map { stage in
                YAMLWriting.mapping([("name", YAMLWriting.text(stage.name)), ("steps", YAMLWriting.number(stage.steps)),
                                     ("recipe", YAMLWriting.recipe(stage.recipe)), ("data", YAMLWriting.data(stage.data))])
            }))))
        }
        top += [
            ("batch_size", YAMLWriting.number(batchSize)),
            ("gradient_accumulation", YAMLWriting.number(gradientAccumulation)),
            ("optimizer", YAMLWriting.mapping([
                ("lr", YAMLWriting.number(optimizer.learningRate)), ("weight_decay", YAMLWriting.number(optimizer.weightDecay)),
                ("betas", YAMLWriting.list([YAMLWriting.number(optimizer.betas.0), YAMLWriting.number(optimizer.betas.1)])),
                ("eps", YAMLWriting.number(optimizer.eps)), ("clip_norm", YAMLWriting.number(optimizer.clipNorm)),
                ("layer_decay", YAMLWriting.number(optimizer.layerDecay)),
            ], flow: true)),
            ("schedule", YAMLWriting.mapping([("name", YAMLWriting.text(schedule.shape.rawValue))]
                + (schedule.warmupSteps.map { [("warmup_steps", YAMLWriting.number($0))] } ?? [])
                + [("min_lr", YAMLWriting.number(schedule.minimumLearningRate))], flow: true)),
            ("seed", YAMLWriting.number(seed)),
        ]
        if let output { top.append(("output", YAMLWriting.text(output))) }
        top += [
            ("checkpoint", YAMLWriting.mapping((checkpoints.every.map { [("every", YAMLWriting.number($0))] } ?? [])
                + [("keep", YAMLWriting.number(checkpoints.keep))], flow: true)),
            ("log_every", YAMLWriting.number(logEvery)),
        ]
        if evaluation != Evaluation() {
            top.append(("evaluation", YAMLWriting.mapping([("every", YAMLWriting.number(evaluation.every))]
                + (evaluation.data.map { [("data", YAMLWriting.data($0))] } ?? []))))
        }
        top += [
            ("workers", YAMLWriting.number(workers)),
            ("max_bad_steps", YAMLWriting.number(maxBadSteps)),
            ("distillation", YAMLWriting.mapping([
                ("queue", YAMLWriting.number(distillation.queue)), ("momentum", YAMLWriting.number(distillation.momentum)),
                ("patch_mask_ratio", YAMLWriting.number(distillation.patchMaskRatio)), ("alpha", YAMLWriting.number(distillation.alpha)),
                ("alpha_ramp_steps", YAMLWriting.number(distillation.alphaRampSteps)),
            ], flow: true)),
            ("device", YAMLWriting.text(device.description)),
            // `lock:` is the `all` entries of `freeze:`, written there.
            ("freeze", YAMLWriting.freeze(freeze)),
            ("precision", YAMLWriting.text(precision.rawValue)),
            ("activation_checkpointing", YAMLWriting.bool(activationCheckpointing)),
        ]
        if let lora {
            var entries = [("rank", YAMLWriting.number(lora.rank)), ("alpha", YAMLWriting.number(lora.alpha)),
                           ("dropout", YAMLWriting.number(lora.dropout)), ("targets", YAMLWriting.texts(lora.targets.sorted().map(\.rawValue)))]
            if !lora.alsoTrain.isEmpty { entries.append(("also_train", YAMLWriting.texts(lora.alsoTrain.sorted().map(\.rawValue)))) }
            top.append(("lora", YAMLWriting.mapping(entries, flow: true)))
        }
        return try Yams.serialize(node: YAMLWriting.mapping(top), width: 120, allowUnicode: true)
    }
}

/// Builds the YAML nodes of a run's sections.
enum YAMLWriting {
    static func text(_ value: String) -> Node { Node(value) }

    /// Integers as they are; doubles in Swift's shortest form that reads back to the same value.
    static func number<Value: LosslessStringConvertible & Numeric>(_ value: Value) -> Node { Node(value.description) }

    static func bool(_ value: Bool) -> Node { Node(value ? "true" : "false") }

    static func list(_ items: [Node]) -> Node { .sequence(.init(items, .implicit, .flow)) }

    static func texts(_ items: [String]) -> Node { list(items.map(text)) }

    static func mapping(_ pairs: [(String, Node)], flow: Bool = false) -> Node {
        .mapping(.init(pairs.map { (Node($0.0), $0.1) }, .implicit, flow ? .flow : .block))
    }

    static func freeze(_ freeze: [PretrainingRun.Tower: PretrainingRun.Freezing]) -> Node {
        mapping(freeze.sorted { $0.key < $1.key }.map { tower, freezing in
            switch freezing {
            case .all: return (tower.rawValue, text("all"))
            case .allButLast(let blocks): return (tower.rawValue, mapping([("except_last", number(blocks))], flow: true))
            }
        }, flow: true)
    }

    static func model(_ model: ModelChoice) throws -> Node {
        switch model {
        case .named(let name): return text(name)
        case .file(let path):
            // The decoder tells a file from a name by its `.json` ending.
            guard path.hasSuffix(".json") else { throw ConfigError("model: the file \(path) must end in .json to be written as YAML") }
            return text(path)
        case .configuration(let configuration):
            let yaml = try YAMLEncoder().encode(configuration)
            guard let node = try Yams.compose(yaml: yaml) else { throw ConfigError("model: the configuration wrote no YAML") }
            return node
        }
    }

    static func recipe(_ recipe: PretrainingRecipe) -> Node {
        if PretrainingRecipe.presets.contains(recipe) { return text(recipe.name) }
        let weights = PretrainingRecipe.Objective.allCases.compactMap { objective in
            recipe.weights[objective].map { (objective.rawValue, number($0)) }
        }
        let negatives = mapping([("weighting", text(recipe.hardNegatives.weighting.rawValue)),
                                 ("positives", text(recipe.hardNegatives.positives.rawValue)),
                                 ("rewrites", bool(recipe.hardNegatives.rewrites)),
                                 ("uniform_fraction", number(recipe.hardNegatives.uniformFraction))], flow: true)
        return mapping([("name", text(recipe.name)), ("weights", mapping(weights, flow: true)),
                        ("enhanced_training", bool(recipe.enhancedTraining)), ("hard_negatives", negatives)], flow: true)
    }

    static func data(_ data: TrainingDataDescription) -> Node {
        var pairs: [(String, Node)]
        switch data.source {
        case .scenes(let size, let seed, let languages, let set, let split):
            pairs = [("source", text(TrainingDataDescription.SourceKind.scenes.rawValue)), ("size", number(size)),
                     ("seed", number(seed)), ("languages", texts(languages)), ("set", text(set.rawValue)),
                     ("split", text(split.rawValue))]
        case .dataset(let path, let format, let split, let languages):
            pairs = [("source", text(TrainingDataDescription.SourceKind.dataset.rawValue)), ("path", text(path))]
            if let format { pairs.append(("format", text(format.rawValue))) }
            if let split { pairs.append(("split", text(split))) }
            if let languages { pairs.append(("languages", texts(languages))) }
        case .labelledImages(let path, let format, let split, let prompts, let classes):
            pairs = [("source", text(TrainingDataDescription.SourceKind.labelledImages.rawValue)), ("path", text(path))]
            if let format { pairs.append(("format", text(format.rawValue))) }
            if let split { pairs.append(("split", text(split))) }
            pairs.append(("prompts", mapping(prompts.byLanguage.sorted { $0.key < $1.key }.map { ($0.key, texts($0.value)) })))
            if let classes {
                pairs.append(("classes", mapping(classes.byLanguage.sorted { $0.key < $1.key }.map { ($0.key, texts($0.value)) })))
            }
        }
        pairs += [("context_length", number(data.contextLength))]
        if let kinds = data.textKinds { pairs.append(("text_kinds", texts(kinds.map(\.rawValue)))) }
        pairs += [("mask_ratio", number(data.maskRatio)), ("whole_word_masking", bool(data.wholeWordMasking)),
                  ("tokenizer", text(data.tokenizer.rawValue))]
        if let vocabulary = data.vocabulary { pairs.append(("vocabulary", text(vocabulary))) }
        pairs += [("augment", bool(data.augment)), ("image_resize", text(data.imageResize.rawValue)),
                  ("include_negatives", bool(data.includeNegatives))]
        if data.rewrites > 0 { pairs.append(("rewrites", number(data.rewrites))) }
        if data.retrievedNegatives > 0 { pairs.append(("retrieved_negatives", number(data.retrievedNegatives))) }
        if let regions = data.regions { pairs.append(("regions", text(regions))) }
        return mapping(pairs)
    }
}
