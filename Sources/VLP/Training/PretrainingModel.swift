import Foundation
import Torch

/// One of the architectures a pretraining run trains, built from a model configuration.
public enum PretrainingModel {
    case r2d2(R2D2)
    case dualEncoder(DualEncoder)
    case singleStream(SingleStream)

    public init(_ configuration: VLPModelConfiguration) throws {
        switch try configuration.kind {
        case .r2d2: self = .r2d2(try R2D2(configuration))
        case .dualEncoder: self = .dualEncoder(try DualEncoder(configuration))
        case .singleStream: self = .singleStream(try SingleStream(configuration))
        }
    }

    public var module: Module {
        switch self {
        case .r2d2(let m): return m
        case .dualEncoder(let m): return m
        case .singleStream(let m): return m
        }
    }

    public var configuration: VLPModelConfiguration {
        switch self {
        case .r2d2(let m): return m.configuration
        case .dualEncoder(let m): return m.configuration
        case .singleStream(let m): return m.configuration
        }
    }

    /// Where the parameters live (evaluation moves its inputs there).
    public var device: Device { module.parameters().first?.device ?? .cpu }

    /// The two towers, for the architectures that have them.
    public var towers: DualEncoder? {
        switch self {
        case .r2d2(let m): return m.towers
        case .dualEncoder(let m): return m
        case .singleStream: return nil
        }
    }

    /// The objectives this model can compute.
    public var supportedObjectives: Set<PretrainingRecipe.Objective> {
        Self.supportedObjectives(try! configuration.kind, objectClasses: configuration.singleStream?.objectClasses ?? 0)
    }

    /// The objectives an architecture can compute (MOC needs a detector's object classes).
    public static func supportedObjectives(_ architecture: VLPModelConfiguration.Architecture, objectClasses: Int) -> Set<PretrainingRecipe.Objective> {
        switch architecture {
        case .r2d2: return [.gcpr, .fgr, .mlm, .tgd, .fgd, .match]
        case .dualEncoder: return [.gcpr, .tgd, .fgd]
        case .singleStream: return objectClasses > 0 ? [.itm, .mlm, .mrfr, .moc, .match] : [.itm, .mlm, .mrfr, .match]
        }
    }

    /// Throws naming the recipe's objectives this model cannot train.
    public func check(_ recipe: PretrainingRecipe) throws {
        try Self.checkSupport(architecture: try configuration.kind, recipe: recipe,
                              objectClasses: configuration.singleStream?.objectClasses ?? 0)
    }

    public static func checkSupport(architecture: VLPModelConfiguration.Architecture, recipe: PretrainingRecipe, objectClasses: Int) throws {
        let supported = supportedObjectives(architecture, objectClasses: objectClasses)
        let used = Set(recipe.weights.filter { $0.value != 0 }.keys)
        let unsupported = used.subtracting(supported)
        guard unsupported.isEmpty else {
            let names = unsupported.map(\.rawValue).sorted().joined(separator: ", ")
            let allowed = supported.map(\.rawValue).sorted().joined(separator: ", ")
            throw RecipeError(message: "recipe \"\(recipe.name)\" uses \(names), which the \(architecture.rawValue) architecture cannot train (it supports \(allowed))")
        }
        guard !used.isEmpty else { throw RecipeError(message: "recipe \"\(recipe.name)\" has no objective with a nonzero weight") }
    }
}
