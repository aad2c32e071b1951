import Torch

/// What one micro-batch of an accumulated step receives from the step's batch-wide pass.
struct AccumulatedShare {
    /// ∂L_batch-wide / ∂(this micro-batch's image and text features), L already weighted.
    var imageGradient: Tensor
    var textGradient: Tensor
    /// ∂L_batch-wide / ∂(its rewritten texts' features), with CMCL.
    var rewriteGradients: (positives: Tensor, negatives: Tensor)?
    /// The teacher's features of this micro-batch, computed when the step began.
    var teacherFeatures: (images: Tensor, texts: Tensor)?
    /// Micro-batches in the step: this one's own terms count 1/K.
    var microBatches: Int
}

/// How an accumulated step went.
public struct AccumulatedStep {
    /// Each objective's value (batch-wide ones over the whole batch, the others averaged over the
    /// micro-batches) and the total as "loss".
    public var values: [String: Double]
    /// False when a loss was not finite: nothing past the batch-wide pass ran backward.
    public var finite: Bool
}

extension PretrainingLoss {
    /// One optimizer step's losses over K micro-batches whose batch-wide objectives (GCPR, TgD, CMCL)
    /// keep every negative of the whole K·B batch, as GradCache and OpenCLIP's `--accum-freq` do:
    ///
    /// 1. each micro-batch's features (and the teacher's) are computed without graphs;
    /// 2. the batch-wide terms run over all K·B rows; backward gives the temperature its gradient
    ///    and each cached feature ∂L/∂feature; the teacher queue then takes the whole batch;
    /// 3. each micro-batch runs forward again with graphs — the same generator seed as in 1, so
    ///    the same dropout — and back-propagates its own terms / K plus ⟨features, ∂L/∂features⟩.
    ///
    /// The gradients equal one batch of K·B for GCPR, TgD and CMCL; the per-pair objectives (FGR, MLM,
    /// FgD) stay per micro-batch, each counting 1/K. `seeds[k]` seeds micro-batch k's forwards;
    /// `lossScale` multiplies every backward (fp16's scale; gradients of the features are taken
    /// back to their true size before use); `autocast` is the forwards' lower precision (bf16 /
    /// fp16 runs), backward runs outside it. `backward(loss, last)` runs backward (`last`: the
    /// step's final one, where data-parallel gradients synchronise). `agreeFinite` decides whether
    /// the step's values are finite (on every rank, when distributed).
    public func accumulated(_ model: PretrainingModel, microBatches: [PretrainingInputs], seeds: [UInt64], lossScale: Double = 1,
                            autocast: DType? = nil, agreeFinite: (inout [String: Double]) throws -> Bool,
                            backward: (Tensor, _ last: Bool) throws -> Void) throws -> AccumulatedStep {
        let count = microBatches.count
        guard count == seeds.count, count >= 1 else { throw RecipeError(message: "accumulated: \(count) micro-batches and \(seeds.count) seeds") }
        guard let towers = model.towers, !batchWideObjectives.isEmpty else {
            throw RecipeError(message: "accumulated: recipe \"\(recipe.name)\" has no batch-wide objective (gcpr, tgd, cmcl) on a two-tower model")
        }
        let device = microBatches[0].images.device
        // 1. Features without graphs.
        var imageFeatures: [Tensor] = [], textFeatures: [Tensor] = []
        var teacherFeatures: [(images: Tensor, texts: Tensor)] = []
        var rewriteFeatures: [ContrastiveWithRewrites.RewriteFeatures] = []
        for (inputs, seed) in zip(microBatches, seeds) {
            manualSeed(seed)
            try withAutocast(on: device, dtype: autocast) { try withNoGrad {
                imageFeatures.append(try towers.encodeImages(inputs.images).features)
                textFeatures.append(try towers.encodeTexts(inputs.inputIDs, attentionMask: inputs.attentionMask).features)
                if let rewrites = try encodeRewrites(towers, inputs) { rewriteFeatures.append(rewrites.features) }
                if let teacher {  // there is one exactly when the recipe distils
                    teacherFeatures.append(try teacher.features(images: inputs.images, inputIDs: inputs.inputIDs, attentionMask: inputs.attentionMask))
                }
            } }
        }
        // 2. The batch-wide terms over the whole batch, back to the cached features.
        let images = try cat(imageFeatures).requiringGrad()
        let texts = try cat(textFeatures).requiringGrad()
        let wholeTeacher = try teacherFeatures.isEmpty ? nil : (images: cat(teacherFeatures.map(\.images)), texts: cat(teacherFeatures.map(\.texts)))
        let wholeRewrites = try rewriteFeatures.isEmpty ? nil : ContrastiveWithRewrites.RewriteFeatures(
            positives: cat(rewriteFeatures.map(\.positives)).requiringGrad(), negatives: cat(rewriteFeatures.map(\.negatives)).requiringGrad(),
            negativeIsValid: cat(rewriteFeatures.map(\.negativeIsValid)))
        let batchWide = try withAutocast(on: device, dtype: autocast) {
            try batchWideTerms(imageFeatures: images, textFeatures: texts, imageIDs: cat(microBatches.map(\.imageIDs)),
                               teacherFeatures: wholeTeacher, rewrites: wholeRewrites, logitScale: towers.temperature.scale(),
                               gather: StepGather(gather))
        }
        // Σ weight · term as a whole step sums it; the per-pair objectives come in pass 3.
        let perPair = Set(PretrainingRecipe.Objective.allCases).subtracting(batchWideObjectives)
        let wholeBatch = try weighted(batchWide, model: "two-tower", computedElsewhere: perPair)
        var values = try wholeBatch.values()
        guard try agreeFinite(&values) else { return AccumulatedStep(values: values, finite: false) }
        var total = values["loss"]!
        try backward(try wholeBatch.total * lossScale, false)
        let sizes = microBatches.map(\.count)
        let imageGradients = try gradient(of: images, "image features").split(sizes: sizes)
        let textGradients = try gradient(of: texts, "text features").split(sizes: sizes)
        let rewriteGradients = try wholeRewrites.map { rewrites in
            (positives: try gradient(of: rewrites.positives, "rewritten positives' features").split(sizes: sizes),
             negatives: try gradient(of: rewrites.negatives, "rewritten negatives' features").split(sizes: rewriteFeatures.map { $0.negatives.size(0) }))
        }
        // 3. Each micro-batch again, with graphs.
        for (k, (inputs, seed)) in zip(microBatches, seeds).enumerated() {
            manualSeed(seed)
            let share = AccumulatedShare(imageGradient: try imageGradients[k] * (1 / lossScale), textGradient: try textGradients[k] * (1 / lossScale),
                                         rewriteGradients: try rewriteGradients.map { (positives: try $0.positives[k] * (1 / lossScale), negatives: try $0.negatives[k] * (1 / lossScale)) },
                                         teacherFeatures: teacherFeatures.isEmpty ? nil : teacherFeatures[k], microBatches: count)
            let terms = try withAutocast(on: device, dtype: autocast) { try losses(model, inputs, share: share) }
            var own: [PretrainingRecipe.Objective: Double] = [:]
            for (objective, term) in terms.terms { own[objective] = try term.item() }
            var current = Dictionary(uniqueKeysWithValues: own.map { ($0.key.rawValue, $0.value) })
            current["loss"] = own.values.reduce(0, +)
            guard try agreeFinite(&current) else { return AccumulatedStep(values: values.merging(current) { a, _ in a }, finite: false) }
            try backward(try terms.total * lossScale, k == count - 1)
            for (objective, value) in own {
                values[objective.rawValue, default: 0] += value / Double(count)
                total += value * recipe.weight(objective) / Double(count)
            }
        }
        values["loss"] = total
        return AccumulatedStep(values: values, finite: true)
    }

    private func gradient(of features: Tensor, _ name: String) throws -> Tensor {
        guard let gradient = features.grad else { throw RecipeError(message: "accumulated: the batch-wide terms gave the \(name) no gradient") }
        return gradient
    }
}
