import Foundation
import Torch

/// The weak semantic scorer built from a trained swift-vlp checkpoint: the cosine between the
/// image tower's and the text tower's L2-normalised contrastive features, as `vlp embed` and
/// retrieval evaluation compute them (the model bundle's own tokenizer and image preprocessing).
/// Any architecture with towers works (R2D2, dual encoder); the single-stream model has none.
public final class CheckpointScorer: ImageTextScorer {
    public let embedder: TowerEmbedder
    public var model: PretrainingModel { embedder.model }

    public init(model: PretrainingModel, inputs: InputPipeline, batchSize: Int = 32) throws {
        guard model.towers != nil else {
            throw DatasetError.invalidArgument("the semantic scorer needs a model with image and text towers (R2D2 or a dual encoder); a single-stream model has none")
        }
        embedder = try TowerEmbedder(model: model, inputs: inputs, batchSize: batchSize)
    }

    /// Opens a model bundle: a checkpoint folder or a run folder (its latest checkpoint).
    public convenience init(checkpoint path: String, batchSize: Int = 32) throws {
        let bundle = try ModelBundle.open(path)
        try self.init(model: bundle.model, inputs: bundle.inputs, batchSize: batchSize)
    }

    public var imageShortSide: Int? { embedder.imageSize }

    public func similarities(images: [RGBImage], texts: [[String]]) throws -> [[Float]] {
        precondition(images.count == texts.count, "one list of texts per image")
        let flat = texts.flatMap { $0 }
        guard !images.isEmpty, !flat.isEmpty else { return texts.map { _ in [] } }
        let imageFeatures = try TowerEmbedder.rows(embedder.imageFeatures(images))
        let textFeatures = try TowerEmbedder.rows(embedder.textFeatures(flat))
        var result: [[Float]] = []
        var next = 0
        for (i, list) in texts.enumerated() {
            result.append(list.indices.map { j in zip(imageFeatures[i], textFeatures[next + j]).reduce(0) { $0 + $1.0 * $1.1 } })
            next += list.count
        }
        return result
    }
}
