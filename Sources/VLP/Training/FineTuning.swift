import Foundation
import Torch

/// A run's fine-tuning controls applied to its model: `freeze:` (whole towers or all but their
/// last blocks), `lora:` (adapters on the projections of the blocks that still train, every other
/// weight frozen) and `optimizer.layer_decay` (a learning-rate scale per tower depth). The trainer
/// calls `prepare` when it builds the model and `parameterGroups` when it builds the optimizer.
enum FineTuning {
    /// Freezes what `run.freeze` says, then attaches the LoRA adapters; errors name the key.
    static func prepare(_ model: PretrainingModel, for run: PretrainingRun) throws {
        try freeze(run.freeze, of: model)
        if run.optimizer.layerDecay != 1, model.towers == nil {
            throw ConfigError("optimizer.layer_decay: \(run.optimizer.layerDecay) counts depth in the image and text towers; the \(model.architecture.rawValue) architecture has none (use 1)")
        }
        if let lora = run.lora { try attachAdapters(lora, to: model.module) }
    }

    /// One line on what trains, for the run's log; nil for a run that trains every weight at one rate.
    static func summary(_ model: PretrainingModel, for run: PretrainingRun) -> String? {
        guard !run.freeze.isEmpty || run.lora != nil || run.optimizer.layerDecay != 1 else { return nil }
        let module = model.module
        var parts: [String] = []
        if !run.freeze.isEmpty { parts.append(describe(run.freeze)) }
        if let lora = run.lora {
            let whole = lora.alsoTrain.isEmpty ? "" : "; also trained whole: " + lora.alsoTrain.sorted().map(\.rawValue).joined(separator: ", ")
            parts.append("LoRA rank \(lora.rank), alpha \(lora.alpha) on \(module.adaptedLayers().count) layers (\(lora.targets.sorted().map(\.rawValue).joined(separator: ", ")))" + whole)
        }
        if run.optimizer.layerDecay != 1 { parts.append("layer decay \(run.optimizer.layerDecay)") }
        return "fine-tuning: \(module.parameterCount(trainableOnly: true)) of \(module.parameterCount()) parameters train; " + parts.joined(separator: "; ")
    }

    /// `freeze:` as the user wrote it: `lock: [image]` when every entry is a whole tower.
    static func describe(_ freeze: [PretrainingRun.Tower: PretrainingRun.Freezing]) -> String {
        let towers = freeze.keys.sorted()
        if freeze.values.allSatisfy({ $0 == .all }) { return "lock: [\(towers.map(\.rawValue).joined(separator: ", "))]" }
        return "freeze: {" + towers.map { tower in
            switch freeze[tower]! {
            case .all: return "\(tower.rawValue): all"
            case .allButLast(let blocks): return "\(tower.rawValue): {except_last: \(blocks)}"
            }
        }.joined(separator: ", ") + "}"
    }

    static func freeze(_ freeze: [PretrainingRun.Tower: PretrainingRun.Freezing], of model: PretrainingModel) throws {
        guard !freeze.isEmpty else { return }
        guard let pair = model.towers else {
            throw ConfigError("\(describe(freeze)) needs a model with an image and a text tower; the \(model.architecture.rawValue) architecture has none")
        }
        for (tower, freezing) in freeze.sorted(by: { $0.key < $1.key }) {
            switch tower {
            case .image: try apply(freezing, to: pair.imageEncoder, named: tower)
            case .text: try apply(freezing, to: pair.textEncoder, named: tower)
            }
        }
    }

    private static func apply(_ freezing: PretrainingRun.Freezing, to tower: some Module & BlockStack, named name: PretrainingRun.Tower) throws {
        switch freezing {
        case .all:
            try tower.freeze()
        case .allButLast(let blocks):
            guard blocks <= tower.blockCount else {
                throw ConfigError("freeze.\(name.rawValue).except_last: \(blocks) is more than the \(tower.blockCount) blocks of the \(name.rawValue) tower")
            }
            for (key, parameter) in tower.namedParameters() where tower.depth(ofParameter: key) <= tower.blockCount - blocks {
                try parameter.requiringGrad(false)
            }
        }
    }

    /// The submodules `freeze` keeps whole: a frozen tower, or the input part and the blocks
    /// before the last N of a tower frozen all but its last N blocks.
    static func frozenModules(_ model: PretrainingModel, _ freeze: [PretrainingRun.Tower: PretrainingRun.Freezing]) -> [Module] {
        guard let pair = model.towers else { return [] }
        func modules(_ freezing: PretrainingRun.Freezing, _ tower: some Module & BlockStack) -> [Module] {
            switch freezing {
            case .all: return [tower]
            case .allButLast(let blocks):
                return tower.namedModules().filter { !$0.name.isEmpty && tower.depth(ofParameter: $0.name + ".") <= tower.blockCount - blocks }
                    .map(\.module)
            }
        }
        return freeze.sorted { $0.key < $1.key }.flatMap { tower, freezing in
            switch tower {
            case .image: return modules(freezing, pair.imageEncoder)
            case .text: return modules(freezing, pair.textEncoder)
            }
        }
    }

    /// The layers `targets` name in every block of `module`: attention projections of
    /// `MultiHeadAttention` and BERT's attention, and the feed-forward linears.
    static func targetLayers(_ targets: Set<PretrainingRun.LoRA.Target>, in module: Module) -> [Linear] {
        var layers: [Linear] = []
        func add(_ target: PretrainingRun.LoRA.Target, _ found: Linear...) {
            if targets.contains(target) { layers += found }
        }
        for (_, m) in module.namedModules() {
            switch m {
            case let attention as MultiHeadAttention:
                add(.query, attention.queryProjection)
                add(.key, attention.keyProjection)
                add(.value, attention.valueProjection)
                add(.output, attention.outputProjection)
            case let mlp as TransformerMLP: add(.mlp, mlp.fc1, mlp.fc2)
            case let layer as TransformerEncoderLayer: add(.mlp, layer.linear1, layer.linear2)
            case let attention as BertSelfAttention:
                add(.query, attention.query)
                add(.key, attention.key)
                add(.value, attention.value)
            case let attention as BertAttention: add(.output, attention.output.dense)
            case let layer as BertLayer: add(.mlp, layer.intermediate.dense, layer.output.dense)
            default: break
            }
        }
        return layers
    }

    /// Attaches adapters to the target layers whose weights still train (a frozen block gets
    /// none), then freezes every weight but the adapters and the parts `also_train` names.
    /// Returns the number of adapted layers.
    @discardableResult
    static func attachAdapters(_ lora: PretrainingRun.LoRA, to module: Module) throws -> Int {
        let layers = targetLayers(lora.targets, in: module).filter(\.weight.requiresGrad)
        guard !layers.isEmpty else {
            throw ConfigError("lora.targets: no \(lora.targets.sorted().map(\.rawValue).joined(separator: ", ")) projection of this model still trains (all are frozen by freeze:/lock:, or the model has none)")
        }
        for layer in layers { try layer.attachAdapter(rank: lora.rank, alpha: lora.alpha, dropout: lora.dropout) }
        let parameters = module.namedParameters()
        for part in lora.alsoTrain.sorted() where !parameters.contains(where: { part.contains(parameter: $0.name) }) {
            throw ConfigError("lora.also_train: this model has no \(part.rawValue)")
        }
        for (name, parameter) in parameters where !Module.isAdapterKey(name) {
            try parameter.requiringGrad(lora.alsoTrain.contains { $0.contains(parameter: name) })
        }
        return layers.count
    }

    /// The optimizer's groups: weight decay on matrices only, and with `layerDecay` below 1 a
    /// learning-rate scale `layerDecay`^(L + 1 − depth) for each tower parameter (L the tower's
    /// blocks, depth as `BlockStack.depth`); everything outside the towers at scale 1.
    static func parameterGroups(_ model: PretrainingModel, settings: PretrainingRun.OptimizerSettings) -> [ParameterGroup] {
        let scales = layerScales(model, layerDecay: settings.layerDecay)
        return ParameterGroup.decayingMatricesOnly(model.module.namedParameters(), weightDecay: settings.weightDecay) { _, tensor in
            scales[ObjectIdentifier(tensor)] ?? 1
        }
    }

    /// Each tower parameter's learning-rate scale (by tensor identity); empty when `layerDecay` is 1.
    static func layerScales(_ model: PretrainingModel, layerDecay: Double) -> [ObjectIdentifier: Double] {
        guard layerDecay != 1, let pair = model.towers else { return [:] }
        var scales: [ObjectIdentifier: Double] = [:]
        func assign(_ tower: some Module & BlockStack) {
            for (name, parameter) in tower.namedParameters() {
                scales[ObjectIdentifier(parameter)] = pow(layerDecay, Double(tower.blockCount + 1 - tower.depth(ofParameter: name)))
            }
        }
        assign(pair.imageEncoder)
        assign(pair.textEncoder)
        return scales
    }
}
