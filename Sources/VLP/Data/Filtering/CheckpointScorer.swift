import Foundation
import Torch

/// The weak semantic scorer built from a trained swift-vlp checkpoint: the cosine between the
/// image tower's and the text tower's L2-normalised contrastive features, as `vlp embed` and
/// retrieval evaluation compute them (CLIP evaluation preprocessing, Chinese-CLIP tokenizer).
/// Any architecture with towers works (R2D2, dual encoder); the single-stream model has none.
public final class CheckpointScorer: ImageTextScorer {
    public let model: PretrainingModel
    public let tokenizer: BertTokenizer
    /// Images and texts per forward pass.
    public var batchSize: Int
    private let towers: DualEncoder
    private let pipeline: ImagePipeline

    public init(model: PretrainingModel, tokenizer: BertTokenizer, batchSize: Int = 32) throws {
        guard let towers = model.towers else {
            throw DatasetError.invalidArgument("the semantic scorer needs a model with image and text towers (R2D2 or a dual encoder); a single-stream model has none")
        }
        self.model = model
        self.tokenizer = tokenizer
        self.batchSize = max(1, batchSize)
        self.towers = towers
        pipeline = try ImagePipeline.clipEvaluation(size: model.configuration.vision.imageSize)
    }

    /// Loads a checkpoint folder or a run folder (its latest checkpoint).
    public convenience init(checkpoint path: String, tokenizer: BertTokenizer? = nil, batchSize: Int = 32) throws {
        try self.init(model: TrainingCheckpoint.loadModel(path), tokenizer: tokenizer ?? BertTokenizer.chineseCLIP(), batchSize: batchSize)
    }

    public var imageShortSide: Int? { model.configuration.vision.imageSize }

    public func similarities(images: [RGBImage], texts: [[String]]) throws -> [[Float]] {
        precondition(images.count == texts.count, "one list of texts per image")
        let imageFeatures = try encode(images: images)
        let textFeatures = try encode(texts: texts.flatMap { $0 })
        var result: [[Float]] = []
        var next = 0
        for (i, list) in texts.enumerated() {
            result.append(list.indices.map { j in zip(imageFeatures[i], textFeatures[next + j]).reduce(0) { $0 + $1.0 * $1.1 } })
            next += list.count
        }
        return result
    }

    /// L2-normalised image features, one row per image.
    func encode(images: [RGBImage]) throws -> [[Float]] {
        let size = model.configuration.vision.imageSize
        var generator = SystemRandomNumberGenerator()    // evaluation preprocessing draws nothing
        var rows: [[Float]] = []
        try withNoGrad {
            for start in stride(from: 0, to: images.count, by: batchSize) {
                let chunk = images[start..<min(start + batchSize, images.count)]
                let values = try chunk.flatMap { try pipeline($0, using: &generator).values }
                let input = try Tensor(values, shape: [chunk.count, 3, size, size]).to(device: model.device)
                rows += try Self.rows(towers.encodeImages(input).features)
            }
        }
        return rows
    }

    /// L2-normalised text features, one row per text.
    func encode(texts: [String]) throws -> [[Float]] {
        let limit = model.configuration.text.maxPositions
        var rows: [[Float]] = []
        try withNoGrad {
            for start in stride(from: 0, to: texts.count, by: batchSize) {
                let chunk = texts[start..<min(start + batchSize, texts.count)]
                let batch = try TextBatch(try chunk.map { try tokenizer.encode($0, maxLength: limit) },
                                          paddingID: tokenizer.paddingID, device: model.device)
                rows += try Self.rows(towers.encodeTexts(batch.inputIDs, attentionMask: batch.attentionMask).features)
            }
        }
        return rows
    }

    private static func rows(_ features: Tensor) throws -> [[Float]] {
        let values = try features.to(.float32, device: .cpu).floats()
        let width = features.shape[1]
        return (0..<features.shape[0]).map { Array(values[($0 * width)..<(($0 + 1) * width)]) }
    }
}
