/// The objectives a pretraining run optimises, with weights, so that R2D2, its ablations and the
/// other systems are configurations rather than forks (OpenCLIP keeps losses apart from models
/// the same way). Decoded from the `recipe:` section of a pretraining config.
public struct PretrainingRecipe: Codable, Equatable, Sendable {
    public enum Objective: String, Codable, CaseIterable, Sendable {
        /// Global contrastive pre-ranking (R2D2) / in-batch contrastive loss (ALIGN, CLIP).
        case gcpr
        /// Fine-grained ranking through the cross encoders.
        case fgr
        /// Masked language modelling.
        case mlm
        /// Target-guided distillation from the momentum teacher.
        case tgd
        /// Feature-guided distillation on masked inputs.
        case fgd
        /// Image-text matching, masked object classification, masked region feature regression (ImageBERT).
        case itm, moc, mrfr
        /// Contrastive learning with rewritten positives and negatives (UNIMO).
        case cmcl
        /// Binary matching on labelled pairs through the match heads (fine-tuning for ICM / IQM).
        case match
    }

    public var name: String
    public var weights: [Objective: Double]
    /// R2D2's Enhanced Training: MLM computed inside the FGR forward of the positive pairs.
    public var enhancedTraining: Bool
    /// How FGR draws its hard negatives.
    public var hardNegatives: HardNegativeSampling

    public init(name: String, weights: [Objective: Double], enhancedTraining: Bool = false,
                hardNegatives: HardNegativeSampling = .cosine) {
        self.name = name
        self.weights = weights
        self.enhancedTraining = enhancedTraining
        self.hardNegatives = hardNegatives
    }

    public func weight(_ objective: Objective) -> Double { weights[objective] ?? 0 }
    public func uses(_ objective: Objective) -> Bool { weight(objective) != 0 }

    /// Two-way distillation (TwD) is TgD + FgD.
    public static let r2d2 = PretrainingRecipe(name: "r2d2", weights: [.gcpr: 1, .fgr: 1, .mlm: 1, .tgd: 1, .fgd: 1], enhancedTraining: true)
    /// R2D2's dual-encoder baseline: GCPR + TwD only.
    public static let prd2 = PretrainingRecipe(name: "prd2", weights: [.gcpr: 1, .tgd: 1, .fgd: 1])
    public static let r2d2WithoutEnhancedTraining = PretrainingRecipe(name: "r2d2-no-et", weights: r2d2.weights, enhancedTraining: false)
    public static let r2d2WithoutTwoWayDistillation = PretrainingRecipe(name: "r2d2-no-twd", weights: [.gcpr: 1, .fgr: 1, .mlm: 1], enhancedTraining: true)
    public static let r2d2WithoutTargetDistillation = PretrainingRecipe(name: "r2d2-no-tgd", weights: [.gcpr: 1, .fgr: 1, .mlm: 1, .fgd: 1], enhancedTraining: true)
    public static let r2d2WithoutFeatureDistillation = PretrainingRecipe(name: "r2d2-no-fgd", weights: [.gcpr: 1, .fgr: 1, .mlm: 1, .tgd: 1], enhancedTraining: true)
    /// R2D2 whose FGR scores one more negative per image: its first rewritten text, a one-aspect
    /// rewrite of its caption or (with data `retrieved_negatives`) a TF-IDF-retrieved caption of
    /// another image — the near-duplicates that fill the first stage's top 10. The rewrites are
    /// unmasked, so Enhanced Training is off (MLM runs its own cross-encoder forward). Needs data
    /// `rewrites` ≥ 1. On Scenes the ranking stage helps with it (README, the ablation tables);
    /// `vlp demo` trains it.
    public static let r2d2RetrievedNegatives = PretrainingRecipe(name: "r2d2-retrieved-negatives", weights: r2d2.weights, enhancedTraining: false,
                                                                 hardNegatives: HardNegativeSampling(rewrites: true))
    public static let align = PretrainingRecipe(name: "align", weights: [.gcpr: 1])
    public static let imageBERT = PretrainingRecipe(name: "imagebert", weights: [.itm: 1, .mlm: 1, .moc: 1, .mrfr: 1])
    public static let unimoCMCL = PretrainingRecipe(name: "unimo-cmcl", weights: [.cmcl: 1, .mlm: 1])

    public static let presets: [PretrainingRecipe] = [
        r2d2, prd2, r2d2WithoutEnhancedTraining, r2d2WithoutTwoWayDistillation, r2d2WithoutTargetDistillation,
        r2d2WithoutFeatureDistillation, r2d2RetrievedNegatives, align, imageBERT, unimoCMCL,
    ]

    /// A preset by name, or an error listing the allowed names.
    public static func named(_ name: String) throws -> PretrainingRecipe {
        guard let recipe = presets.first(where: { $0.name == name }) else {
            throw RecipeError(message: "unknown recipe \"\(name)\"; allowed: \(presets.map(\.name).joined(separator: ", "))")
        }
        return recipe
    }
}

public struct RecipeError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
