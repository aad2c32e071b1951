import Foundation
import Torch

/// The weighted loss terms of one step.
public struct LossTerms {
    /// Each objective's (unweighted) loss.
    public var terms: [PretrainingRecipe.Objective: Tensor]
    /// Σ weight · term.
    public var total: Tensor

    /// The terms as numbers by objective name, and the total as "loss", for logs.
    public func values() throws -> [String: Double] {
        var result: [String: Double] = [:]
        for (objective, term) in terms { result[objective.rawValue] = try term.item() }
        result["loss"] = try total.item()
        return result
    }
}

/// Computes a recipe's objectives on one batch for any model, by what the model can do (its
/// towers, pair scorer, joint encoder, MLM head), and keeps what outlives a step: the momentum
/// teacher and its feature queue (TgD, FgD). Models stay free of losses.
///
/// R2D2 step (DESIGN.md §1), in order:
/// 1. the towers encode images and texts → GCPR on the L2-normalised features;
/// 2. FGR: per text one hard-negative image, per image one hard-negative text, sampled from the
///    detached similarities; both cross encoders score B positive and 2B negative pairs. With
///    Enhanced Training the pairs use the **masked** text and MLM reads the text-attends-image
///    states of the positives; without it, MLM runs its own cross-encoder forward;
/// 3. TgD: the teacher encodes the full batch; soft targets over batch + queue;
/// 4. FgD: the student encodes masked text (the MLM input) and images with a fraction of patches
///    hidden; softmax distributions of features against the teacher's.
///
/// UNIMO's CMCL (`ContrastiveWithRewrites`) runs on the towers too, over the batch's texts, each
/// sample's extra positive and its rewritten / retrieved hard negatives (every worker's batch,
/// through the same gather as GCPR, and the whole batch under gradient accumulation).
/// The teacher features of each forward enter the queue when its loss is computed; after the
/// optimizer step, `afterOptimizerStep` moves the teacher (EMA). Every objective the recipe
/// weights must produce a term for the model, or the call is an error.
public final class PretrainingLoss {
    public let recipe: PretrainingRecipe
    /// How the batch-wide objectives and FGR see every worker's batch (identity on one process).
    /// Each loss computation wraps it in a `StepGather`, so they share their all-gathers.
    public var gather: FeatureGather
    public var ranking: FineGrainedRanking
    public var targetDistillation: TeacherGuidedDistillation
    public var featureDistillation: FeatureDistillation
    /// Fraction of patches hidden from FgD's student.
    public var patchMaskRatio: Double
    /// The momentum teacher and its queue, when the recipe distils (TgD, FgD).
    public let teacher: MomentumTeacher?

    public init(recipe: PretrainingRecipe, model: PretrainingModel, queueCapacity: Int = 256,
                patchMaskRatio: Double = 0.3, teacherMomentum: Double = 0.995,
                gather: FeatureGather = LocalGather()) throws {
        try model.check(recipe)
        guard (0..<1).contains(patchMaskRatio) else { throw RecipeError(message: "patch_mask_ratio \(patchMaskRatio) is outside [0, 1)") }
        self.recipe = recipe
        self.gather = gather
        ranking = FineGrainedRanking()
        targetDistillation = TeacherGuidedDistillation()
        featureDistillation = FeatureDistillation()
        self.patchMaskRatio = patchMaskRatio
        if recipe.uses(.tgd) || recipe.uses(.fgd), let towers = model.towers {
            teacher = try MomentumTeacher(copying: towers, queueCapacity: queueCapacity, momentum: teacherMomentum)
        } else {
            teacher = nil
        }
    }

    public func callAsFunction(_ model: PretrainingModel, _ inputs: PretrainingInputs) throws -> LossTerms {
        try losses(model, inputs, share: nil)
    }

    /// The terms of one forward; with `share`, one micro-batch's part of an accumulated step.
    func losses(_ model: PretrainingModel, _ inputs: PretrainingInputs, share: AccumulatedShare?) throws -> LossTerms {
        if let towers = model.towers { return try twoTowerLosses(towers: towers, scorer: model.pairScorer, mlmHead: model.mlmHead, inputs, share: share) }
        guard share == nil else { throw RecipeError(message: "only two-tower models accumulate batch-wide objectives") }
        if let joint = model.jointEncoder { return try singleStreamLosses(joint, inputs) }
        throw RecipeError(message: "the \(model.architecture.rawValue) model has neither towers nor a joint encoder to train")
    }

    /// EMA update of the teacher, once per optimizer step.
    public func afterOptimizerStep(_ model: PretrainingModel) throws {
        guard let teacher, let towers = model.towers else { return }
        try teacher.follow(towers)
    }

    /// The teacher and its queue, for checkpoints (empty without a teacher).
    public func stateDict() -> [String: Tensor] {
        teacher?.stateDict() ?? [:]
    }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        try teacher?.loadStateDict(state)
    }

    private func masked(_ inputs: PretrainingInputs, for objective: String) throws -> (ids: Tensor, labels: Tensor) {
        guard let ids = inputs.maskedInputIDs, let labels = inputs.mlmLabels else {
            throw RecipeError(message: "\(objective) needs masked texts: turn on MLM masking in the loader")
        }
        return (ids, labels)
    }

    private func twoTowerLosses(towers: DualEncoder, scorer: (any PairScorer)?, mlmHead: MaskedLanguageModelHead?,
                                _ inputs: PretrainingInputs, share: AccumulatedShare? = nil) throws -> LossTerms {
        var terms: [PretrainingRecipe.Objective: Tensor] = [:]
        // GCPR, CMCL, TgD and FGR gather the same features and ids: once each per step.
        let gather = StepGather(self.gather)
        let images = try towers.encodeImages(inputs.images)
        let texts = try towers.encodeTexts(inputs.inputIDs, attentionMask: inputs.attentionMask)
        // Right after the texts, as the accumulated step's first pass encodes them (same dropout).
        let encodedRewrites = try encodeRewrites(towers, inputs)
        let rewrites = encodedRewrites?.features
        let scale = try towers.temperature.scale()
        let distils = recipe.uses(.tgd) || recipe.uses(.fgd)
        guard !distils || teacher != nil else { throw RecipeError(message: "distillation needs a teacher") }
        // In an accumulated step the teacher saw this micro-batch when the step began.
        let teacherFeatures = try share?.teacherFeatures
            ?? (distils ? teacher!.features(images: inputs.images, inputIDs: inputs.inputIDs, attentionMask: inputs.attentionMask) : nil)
        if share == nil {
            terms.merge(try batchWideTerms(imageFeatures: images.features, textFeatures: texts.features, imageIDs: inputs.imageIDs,
                                           teacherFeatures: teacherFeatures, rewrites: rewrites, logitScale: scale, gather: gather)) { a, _ in a }
        }
        let needsMaskedText = recipe.uses(.fgd) || (recipe.uses(.mlm)) || (recipe.uses(.fgr) && recipe.enhancedTraining)
        let maskedTexts: EncodedTexts? = needsMaskedText
            ? try towers.encodeTexts(masked(inputs, for: "MLM / FgD / Enhanced Training").ids, attentionMask: inputs.attentionMask)
            : nil
        if let scorer, recipe.uses(.match) {
            // Labelled pairs (matching fine-tuning): both heads, class-weighted as FGR.
            let labels = try matchLabels(inputs)
            let scores = try scorer.scorePairs(textStates: texts.states, textMask: inputs.attentionMask, imageStates: images.states)
            terms[.match] = try ranking(headLogits: [scores.textCrossLogits, scores.imageCrossLogits], labels: labels)
        }
        if let scorer, recipe.uses(.fgr) || recipe.uses(.mlm) {
            try crossEncoderLosses(scorer, towers: towers, mlmHead: mlmHead, images: images, texts: texts, maskedTexts: maskedTexts,
                                   rewrittenNegatives: encodedRewrites?.negatives, logitScale: scale, gather: gather, inputs, into: &terms)
        }
        if recipe.uses(.fgd), let maskedTexts, let teacherFeatures {
            let grid = towers.imageEncoder.patchGrid(height: inputs.images.size(2), width: inputs.images.size(3))
            let patches = grid.rows * grid.columns
            let patchMask = try Tensor.rand([inputs.count, patches], device: inputs.images.device) .< patchMaskRatio
            let maskedImages = try towers.encodeImages(inputs.images, patchMask: patchMask)
            let imageTerm = try featureDistillation(student: maskedImages.features, teacher: teacherFeatures.images)
            let textTerm = try featureDistillation(student: maskedTexts.features, teacher: teacherFeatures.texts)
            terms[.fgd] = try (imageTerm + textTerm) * 0.5
        }
        guard let share else { return try weighted(terms, model: "two-tower") }
        // This micro-batch's part of the accumulated step: its own terms' share, and the
        // batch-wide terms through ⟨features, ∂L/∂features⟩ (their values came with the share).
        var surrogate = try (images.features * share.imageGradient).sum() + (texts.features * share.textGradient).sum()
        if let rewrites, let gradients = share.rewriteGradients {
            surrogate = try surrogate + (rewrites.positives * gradients.positives).sum() + (rewrites.negatives * gradients.negatives).sum()
        }
        let onlyBatchWide = PretrainingRecipe.Objective.allCases.allSatisfy { !recipe.uses($0) || batchWideObjectives.contains($0) }
        guard !onlyBatchWide else { return LossTerms(terms: [:], total: surrogate) }
        let own = try weighted(terms, model: "two-tower", computedElsewhere: batchWideObjectives)
        return LossTerms(terms: own.terms, total: try own.total * (1 / Double(share.microBatches)) + surrogate)
    }

    /// The objectives whose loss ranges over the whole batch (its contrastive columns): GCPR,
    /// TgD and CMCL. Gradient accumulation computes them once over all micro-batches (GradCache).
    public var batchWideObjectives: Set<PretrainingRecipe.Objective> { Set([.gcpr, .tgd, .cmcl].filter(recipe.uses)) }

    /// CMCL's extra positive and hard-negative texts through the text tower (nil when the recipe
    /// has no CMCL), with the negatives' token states (FGR's rewritten negatives read them).
    func encodeRewrites(_ towers: DualEncoder, _ inputs: PretrainingInputs) throws -> (features: ContrastiveWithRewrites.RewriteFeatures, negatives: EncodedTexts)? {
        guard recipe.uses(.cmcl) else { return nil }
        guard let rewrites = inputs.rewrites else {
            throw RecipeError(message: "cmcl needs each sample's rewritten texts: set data.rewrites (hard negatives per sample, e.g. 3; data.retrieved_negatives adds TF-IDF-retrieved captions to the rewrites)")
        }
        let negatives = try towers.encodeTexts(rewrites.negatives.inputIDs, attentionMask: rewrites.negatives.attentionMask)
        let features = ContrastiveWithRewrites.RewriteFeatures(
            positives: try towers.encodeTexts(rewrites.positives.inputIDs, attentionMask: rewrites.positives.attentionMask).features,
            negatives: negatives.features, negativeIsValid: rewrites.negativeIsValid)
        return (features, negatives)
    }

    /// GCPR, CMCL and TgD over a batch's features; with TgD, the teacher features then enter
    /// the queue (after the loss: a batch's own features are not its negatives). `gather`: the
    /// step's (`StepGather`), so that the objectives share their all-gathers.
    func batchWideTerms(imageFeatures: Tensor, textFeatures: Tensor, imageIDs: Tensor, teacherFeatures: (images: Tensor, texts: Tensor)?,
                        rewrites: ContrastiveWithRewrites.RewriteFeatures?, logitScale: Tensor, gather: FeatureGather) throws -> [PretrainingRecipe.Objective: Tensor] {
        var terms: [PretrainingRecipe.Objective: Tensor] = [:]
        if recipe.uses(.gcpr) {
            terms[.gcpr] = try GlobalContrastiveLoss(gather: gather)(imageFeatures: imageFeatures, textFeatures: textFeatures, imageIDs: imageIDs,
                                                                    logitScale: logitScale).loss
        }
        if recipe.uses(.cmcl) {
            guard let rewrites else { throw RecipeError(message: "cmcl: the batch's rewritten texts were not encoded") }
            terms[.cmcl] = try ContrastiveWithRewrites.loss(
                imageFeatures: imageFeatures, textFeatures: textFeatures, positiveFeatures: rewrites.positives, negativeFeatures: rewrites.negatives,
                negativeIsValid: rewrites.negativeIsValid, imageIDs: imageIDs, logitScale: logitScale, gather: gather)
        }
        if let teacher, let teacherFeatures {
            // On several processes the batch columns and the queue take every worker's teacher
            // features (no gradient flows to the teacher, so a plain gather would do; the
            // gather hook is reused, and the ids come from GCPR's gather).
            let gathered = try withNoGrad {
                (images: try gather.gather(teacherFeatures.images).all.detached(),
                 texts: try gather.gather(teacherFeatures.texts).all.detached(),
                 imageIDs: try gather.gather(imageIDs).all)
            }
            if recipe.uses(.tgd) {
                terms[.tgd] = try targetDistillation(studentImages: imageFeatures, studentTexts: textFeatures,
                                                     teacherImages: teacherFeatures.images, teacherTexts: teacherFeatures.texts,
                                                     imageIDs: imageIDs, gathered: gathered, queue: teacher.queue, logitScale: logitScale)
            }
            try teacher.remember(images: gathered.images, texts: gathered.texts, imageIDs: gathered.imageIDs)
        }
        return terms
    }

    /// FGR and MLM. `rewrittenNegatives`: every rewrite slot through the text tower, when CMCL
    /// already encoded them (FGR's rewritten negatives then reuse their states).
    private func crossEncoderLosses(_ scorer: any PairScorer, towers: DualEncoder, mlmHead: MaskedLanguageModelHead?, images: EncodedImages, texts: EncodedTexts, maskedTexts: EncodedTexts?,
                                    rewrittenNegatives: EncodedTexts?, logitScale: Tensor, gather: FeatureGather, _ inputs: PretrainingInputs,
                                    into terms: inout [PretrainingRecipe.Objective: Tensor]) throws {
        let batch = inputs.count
        let mask = inputs.attentionMask
        if recipe.uses(.fgr) {
            // Negatives come from every worker's batch (the gather hook: identity on one process;
            // on several, token states with gradient; features and ids are GCPR's, detached).
            let allIDs = try gather.gather(inputs.imageIDs).all
            let allImageFeatures = try gather.gather(images.features).all.detached()
            let allTextFeatures = try gather.gather(texts.features).all.detached()
            let sampling = recipe.hardNegatives
            let positives = try sampling.positiveMask(imageIDs: inputs.imageIDs, allImageIDs: allIDs,
                                                      inputIDs: inputs.inputIDs, allInputIDs: { try gather.gather(inputs.inputIDs).all })
            // Sampled ∝ softmax(cosine), or ∝ softmax(cosine / τ) as R2D2's code does
            // (`recipe.hardNegatives`). A negative text for each local image, a negative image
            // for each local text.
            let sharpness = try sampling.sharpness(logitScale: logitScale)
            let negativeTexts = try FineGrainedRanking.sampleHardNegatives(
                similarity: images.features.detached().matmul(allTextFeatures.transposed(0, 1)) * sharpness, positiveMask: positives,
                uniformFraction: sampling.uniformFraction)
            let negativeImages = try FineGrainedRanking.sampleHardNegatives(
                similarity: texts.features.detached().matmul(allImageFeatures.transposed(0, 1)) * sharpness, positiveMask: positives,
                uniformFraction: sampling.uniformFraction)
            // With ET every FGR pair reads the masked text, negatives included: were only the
            // positives masked, the presence of [MASK] alone would tell the heads the label.
            let useMasked = recipe.enhancedTraining && recipe.uses(.mlm)
            let pairTexts = useMasked ? maskedTexts!.states : texts.states
            let allPairTexts = try gather.gather(pairTexts).all
            let allMask = try gather.gather(mask).all
            let allImageStates = try gather.gather(images.states).all
            var textStates = try cat([pairTexts, pairTexts, allPairTexts.indexSelect(dim: 0, negativeTexts)])
            var textMask = try cat([mask, mask, allMask.indexSelect(dim: 0, negativeTexts)])
            var imageStates = try cat([images.states, allImageStates.indexSelect(dim: 0, negativeImages), images.states])
            var negatives = 2 * batch
            if sampling.rewrites {
                // Each image with a rewritten negative: (its first rewrite, the image), label 0.
                guard !useMasked else { throw RecipeError(message: "hard_negatives.rewrites needs enhanced_training: false (the rewrites are unmasked)") }
                guard let rewrites = inputs.rewrites, rewrites.negativesPerSample > 0 else {
                    throw RecipeError(message: "hard_negatives.rewrites needs each image's rewritten texts: set data.rewrites (≥ 1)")
                }
                let rows = try rewrites.negativeIsValid.select(dim: 1, index: 0).nonzero().squeezed(dim: 1)
                if rows.size(0) > 0 {
                    // Row i's first slot is negative row i·K.
                    let slots = try rows * rewrites.negativesPerSample
                    let rewriteMask = try rewrites.negatives.attentionMask.indexSelect(dim: 0, slots)
                    let rewrittenStates = try rewrittenNegatives?.states.indexSelect(dim: 0, slots)
                        ?? towers.encodeTexts(rewrites.negatives.inputIDs.indexSelect(dim: 0, slots), attentionMask: rewriteMask).states
                    textStates = try cat([textStates, rewrittenStates])
                    textMask = try cat([textMask, rewriteMask])
                    imageStates = try cat([imageStates, images.states.indexSelect(dim: 0, rows)])
                    negatives += rows.size(0)
                }
            }
            let scores = try scorer.scorePairs(textStates: textStates, textMask: textMask, imageStates: imageStates)
            let labels = try cat([Tensor.ones([batch], dtype: .int64, device: mask.device),
                                  Tensor.zeros([negatives], dtype: .int64, device: mask.device)])
            terms[.fgr] = try ranking(headLogits: [scores.textCrossLogits, scores.imageCrossLogits], labels: labels)
            if useMasked {
                let positiveStates = try scores.textCrossStates.narrowed(dim: 0, start: 0, length: batch)
                terms[.mlm] = try MaskedLanguageModeling.loss(states: positiveStates, labels: masked(inputs, for: "MLM").labels) { try self.predictWords(mlmHead, $0) }
                return
            }
        }
        if recipe.uses(.mlm), let maskedTexts {
            let scores = try scorer.scorePairs(textStates: maskedTexts.states, textMask: mask, imageStates: images.states)
            terms[.mlm] = try MaskedLanguageModeling.loss(states: scores.textCrossStates, labels: masked(inputs, for: "MLM").labels) { try self.predictWords(mlmHead, $0) }
        }
    }

    private func singleStreamLosses(_ model: SingleStream, _ inputs: PretrainingInputs) throws -> LossTerms {
        var terms: [PretrainingRecipe.Objective: Tensor] = [:]
        let batch = inputs.count
        let regions: ImageRegions
        if let detected = inputs.regions {
            regions = detected.regions
        } else {
            regions = try model.regions(of: inputs.images)
        }
        let realRegions = try regions.mask.map { try $0 .!= 0 } ?? Tensor.ones([batch, regions.count], dtype: .bool, device: inputs.images.device)
        if recipe.uses(.itm) {
            // One negative text per image, uniform over the texts of other images.
            let positives = try inputs.imageIDs.unsqueezed(dim: 1) .== inputs.imageIDs.unsqueezed(dim: 0)
            let uniform = try Tensor.zeros([batch, batch], device: inputs.images.device)
            let negatives = try FineGrainedRanking.sampleHardNegatives(similarity: uniform, positiveMask: positives)
            let ids = try cat([inputs.inputIDs, inputs.inputIDs.indexSelect(dim: 0, negatives)])
            let mask = try cat([inputs.attentionMask, inputs.attentionMask.indexSelect(dim: 0, negatives)])
            let doubled = try regions.mapped { try cat([$0, $0]) }
            let output = try model(inputIDs: ids, attentionMask: mask, regions: doubled)
            let labels = try cat([Tensor.ones([batch], dtype: .int64, device: ids.device), Tensor.zeros([batch], dtype: .int64, device: ids.device)])
            terms[.itm] = try SingleStreamObjectives.imageTextMatching(logits: output.matchLogits, labels: labels)
        }
        if recipe.uses(.match) {
            let output = try model(inputIDs: inputs.inputIDs, attentionMask: inputs.attentionMask, regions: regions)
            terms[.match] = try SingleStreamObjectives.imageTextMatching(logits: output.matchLogits, labels: matchLabels(inputs))
        }
        if recipe.uses(.mlm) || recipe.uses(.mrfr) || recipe.uses(.moc) {
            // One forward on masked text and masked regions serves MLM, MRFR and MOC; only real
            // regions (not padding) are masked.
            let text = try recipe.uses(.mlm) ? masked(inputs, for: "MLM") : (inputs.inputIDs, inputs.inputIDs)
            let maskedRegions = try (Tensor.rand([batch, regions.count], device: inputs.images.device) .< 0.15).logicalAnd(realRegions)
            let masksRegions = recipe.uses(.mrfr) || recipe.uses(.moc)
            let output = try model(inputIDs: text.0, attentionMask: inputs.attentionMask, regions: regions,
                                   maskedRegions: masksRegions ? maskedRegions : nil)
            if recipe.uses(.moc) {
                // ImageBERT's MOC: the detector's class of each masked region, from its state.
                guard let classes = inputs.regions?.classes else {
                    throw RecipeError(message: "moc needs the detector's object classes of each region: set data.regions to a folder of <id>.features/boxes/classes.npy (`vlp data synth --regions` writes one)")
                }
                guard let head = model.objectHead else {
                    throw RecipeError(message: "moc needs an object-classification head: set single_stream.object_classes in the model configuration")
                }
                let labels = try classes.maskedFill(maskedRegions.logicalNot(), -100)
                let classCount = head.weight.size(0)
                guard try !(labels .>= Double(classCount)).any() else {
                    throw RecipeError(message: "moc: a region's class id is ≥ the model's \(classCount) object_classes")
                }
                terms[.moc] = try SingleStreamObjectives.maskedObjectClassification(logits: head(output.regionStates), labels: labels)
            }
            if recipe.uses(.mlm) {
                terms[.mlm] = try MaskedLanguageModeling.loss(states: output.textStates, labels: text.1) { try model.mlmHead($0) }
            }
            if recipe.uses(.mrfr) {
                terms[.mrfr] = try SingleStreamObjectives.maskedRegionFeatureRegression(
                    predicted: model.regionFeatureHead(output.regionStates), original: regions.features, mask: maskedRegions)
            }
        }
        return try weighted(terms, model: "single-stream")
    }

    /// Vocabulary logits from the pair scorer's text states: MLM needs the model's MLM head.
    private func predictWords(_ head: MaskedLanguageModelHead?, _ states: Tensor) throws -> Tensor {
        guard let head else { throw RecipeError(message: "MLM needs an MLM head on the cross encoders; this model has none") }
        return try head(states)
    }

    private func matchLabels(_ inputs: PretrainingInputs) throws -> Tensor {
        guard let labels = inputs.labels else {
            throw RecipeError(message: "the match objective needs labelled pairs (a matching set such as ICM / IQM, read with include_negatives: true)")
        }
        guard try ((labels .== 0).logicalOr(labels .== 1)).all() else {
            throw RecipeError(message: "the match objective needs 0/1 labels; this data has other labels (a class label set?)")
        }
        return labels
    }

    /// Σ weight · term, summed in the order of the objectives' names (the order the losses of
    /// earlier runs were summed in, so their curves stay reproducible). An objective the recipe
    /// weights that produced no term is an error: a recipe must never train less than it says.
    func weighted(_ terms: [PretrainingRecipe.Objective: Tensor], model: String,
                  computedElsewhere: Set<PretrainingRecipe.Objective> = []) throws -> LossTerms {
        let missing = PretrainingRecipe.Objective.allCases.filter { recipe.uses($0) && terms[$0] == nil && !computedElsewhere.contains($0) }
        guard missing.isEmpty else {
            throw RecipeError(message: "recipe \"\(recipe.name)\" weights \(missing.map(\.rawValue).joined(separator: ", ")), which the \(model) model computed no loss for on this batch")
        }
        var total: Tensor?
        for objective in PretrainingRecipe.Objective.allCases.sorted(by: { $0.rawValue < $1.rawValue }) {
            guard let term = terms[objective] else { continue }
            let weighted = try term * recipe.weight(objective)
            total = try total.map { try $0 + weighted } ?? weighted
        }
        guard let total else { throw RecipeError(message: "recipe \"\(recipe.name)\" produced no loss term") }
        return LossTerms(terms: terms, total: total)
    }
}
