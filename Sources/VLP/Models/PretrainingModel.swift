import Foundation
import Torch

/// A vision-language model built from a configuration, described by what it can do rather than
/// by its family: code outside `Models/` asks for a capability (`towers`, `pairScorer`,
/// `jointEncoder`, `mlmHead`, `supportedObjectives`) and never switches on the architecture.
///
/// | architecture | towers | pairScorer | jointEncoder | mlmHead |
/// |---|---|---|---|---|
/// | `r2d2` | ✓ | ✓ (cross encoders) | – | on the pair scorer's text states |
/// | `dual_encoder` | ✓ | – | – | – |
/// | `single_stream` | – | – | ✓ | on the joint encoder's text states |
public struct PretrainingModel {
    /// The whole model: parameters, modes, devices, checkpoints.
    public let module: Module
    public let configuration: VLPModelConfiguration
    /// Embedding: image and text towers with projections and a learned temperature (GCPR, TgD,
    /// FgD, retrieval, zero-shot, search). R2D2's first stage or the whole dual encoder.
    public let towers: DualEncoder?
    /// Fine-grained ranking and re-ranking: scores (text, image) pairs from the towers' token
    /// states (R2D2's two cross encoders).
    public let pairScorer: (any PairScorer)?
    /// One transformer over text and image tokens with ITM, MLM, MRFR and (with object classes)
    /// MOC heads (the single-stream ImageBERT).
    public let jointEncoder: SingleStream?
    /// The vocabulary head MLM predicts masked words with: on `pairScorer`'s text-attends-image
    /// states (R2D2) or on `jointEncoder`'s text states.
    public let mlmHead: MaskedLanguageModelHead?

    public init(_ configuration: VLPModelConfiguration) throws {
        self.configuration = configuration
        switch configuration.architecture {
        case .r2d2:
            let model = try R2D2(configuration)
            (module, towers, pairScorer, jointEncoder, mlmHead) = (model, model.towers, model, nil, model.mlmHead)
        case .dualEncoder:
            let model = try DualEncoder(configuration)
            (module, towers, pairScorer, jointEncoder, mlmHead) = (model, model, nil, nil, nil)
        case .singleStream:
            let model = try SingleStream(configuration)
            (module, towers, pairScorer, jointEncoder, mlmHead) = (model, nil, nil, model, model.mlmHead)
        }
    }

    public var architecture: VLPModelConfiguration.Architecture { configuration.architecture }

    /// Where the parameters live (evaluation moves its inputs there).
    public var device: Device { module.parameters().first?.device ?? .cpu }

    /// Whether the model can give a match probability for an (image, text) pair: R2D2's cross
    /// encoders or the single stream's ITM head (a dual encoder only has similarities).
    public var hasMatchHead: Bool { pairScorer != nil || jointEncoder != nil }

    /// The objectives this model can compute.
    public var supportedObjectives: Set<PretrainingRecipe.Objective> { Self.supportedObjectives(configuration) }

    /// The objectives a configuration's model can compute, known before it is built (a run's
    /// description is checked before any weights exist). MOC needs a detector's object classes.
    public static func supportedObjectives(_ configuration: VLPModelConfiguration) -> Set<PretrainingRecipe.Objective> {
        switch configuration.architecture {
        case .r2d2: return [.gcpr, .fgr, .mlm, .tgd, .fgd, .cmcl, .match]
        case .dualEncoder: return [.gcpr, .tgd, .fgd, .cmcl]
        case .singleStream:
            return (configuration.singleStream?.objectClasses ?? 0) > 0 ? [.itm, .mlm, .mrfr, .moc, .match] : [.itm, .mlm, .mrfr, .match]
        }
    }

    /// Throws naming the recipe's objectives this model cannot train.
    public func check(_ recipe: PretrainingRecipe) throws {
        try Self.checkSupport(configuration: configuration, recipe: recipe)
    }

    public static func checkSupport(configuration: VLPModelConfiguration, recipe: PretrainingRecipe) throws {
        let supported = supportedObjectives(configuration)
        let used = Set(recipe.weights.filter { $0.value != 0 }.keys)
        let unsupported = used.subtracting(supported)
        guard unsupported.isEmpty else {
            let names = unsupported.map(\.rawValue).sorted().joined(separator: ", ")
            let allowed = supported.map(\.rawValue).sorted().joined(separator: ", ")
            throw RecipeError(message: "recipe \"\(recipe.name)\" uses \(names), which the \(configuration.architecture.rawValue) architecture cannot train (it supports \(allowed))")
        }
        guard !used.isEmpty else { throw RecipeError(message: "recipe \"\(recipe.name)\" has no objective with a nonzero weight") }
    }

    /// Loads the configuration's `init` weights into the towers — real pretrained encoders to
    /// start from. The trainer calls it before the first step of a fresh run; a reopened
    /// checkpoint holds its own weights and does not need the files. Nothing to do without `init`.
    public func loadInitialWeights(log: (String) -> Void) throws {
        guard let weights = configuration.initialWeights, weights.text != nil || weights.vision != nil else { return }
        guard let towers else {
            throw ModelError.invalidConfiguration(source: "init", reason: "the \(architecture.rawValue) model has no separate text and image towers to load tower weights into")
        }
        try towers.loadInitialWeights(weights, log: log)
    }
}
