import Foundation
import Torch

/// Texts and images to a model's L2-normalised contrastive features through its two towers, in
/// batches, without gradients — the one place `vlp embed`, `vlp index`/`vlp serve`, the
/// filter's semantic scorer and zero-shot evaluation all embed with a trained model. Images get
/// the evaluation preprocessing (CLIP's resize + centre crop at the model's image size), texts
/// the Chinese-CLIP tokenizer cut to the training context length, as retrieval evaluation does.
/// Any architecture with towers works (R2D2, dual encoder); the single-stream model has none.
public final class TowerEmbedder {
    public let model: PretrainingModel
    public let tokenizer: BertTokenizer
    /// Inputs per forward pass.
    public var batchSize: Int
    /// Tokens per text, special tokens included.
    public let maxLength: Int
    /// The text length training and `vlp evaluate` use unless told otherwise (`context_length`
    /// in a run's config, `--context-length`). Longer texts would reach position embeddings
    /// the model never trained, so embedding defaults to it when a checkpoint does not record
    /// its own.
    public static let defaultContextLength = 32
    public let towers: DualEncoder
    public let pipeline: ImagePipeline

    public init(model: PretrainingModel, tokenizer: BertTokenizer? = nil, batchSize: Int = 32, maxLength: Int? = nil) throws {
        guard let towers = model.towers else {
            throw ModelError.invalidInput(name: "model", reason: "embedding needs separate image and text towers (R2D2 or a dual encoder); a single-stream model has none")
        }
        self.model = model
        self.tokenizer = try tokenizer ?? BertTokenizer.chineseCLIP()
        self.batchSize = max(1, batchSize)
        self.maxLength = min(maxLength ?? Self.defaultContextLength, model.configuration.text.maxPositions)
        self.towers = towers
        pipeline = try ImagePipeline.clipEvaluation(size: model.configuration.vision.imageSize)
    }

    /// Loads a checkpoint folder or a run folder (its latest checkpoint) onto `device`; texts
    /// are cut at `maxLength`, else at the context length the checkpoint records having
    /// trained with.
    public convenience init(checkpoint path: String, tokenizer: BertTokenizer? = nil, batchSize: Int = 32, maxLength: Int? = nil,
                            device: Device = .cpu) throws {
        let model = try TrainingCheckpoint.loadModel(path)
        if device != .cpu { try model.module.to(device) }
        try self.init(model: model, tokenizer: tokenizer, batchSize: batchSize,
                      maxLength: maxLength ?? TrainingCheckpoint.trainedContextLength(path))
    }

    /// Side of the square images the image tower takes.
    public var imageSize: Int { model.configuration.vision.imageSize }

    /// [texts, D] on the model's device.
    public func textFeatures(_ texts: [String]) throws -> Tensor {
        try batched(texts.count) { range in
            let batch = try TextBatch(try texts[range].map { try tokenizer.encode($0, maxLength: maxLength) },
                                      paddingID: tokenizer.paddingID, device: model.device)
            return try towers.encodeTexts(batch.inputIDs, attentionMask: batch.attentionMask).features
        }
    }

    /// [images, D] on the model's device, from decoded images.
    public func imageFeatures(_ images: [RGBImage]) throws -> Tensor {
        var generator = SystemRandomNumberGenerator()    // evaluation preprocessing draws nothing
        return try preprocessedFeatures(images.count) { try pipeline(images[$0], using: &generator).values }
    }

    /// [files, D] on the model's device, from image files (a file that does not decode is an
    /// `ImageError` naming it).
    public func imageFeatures(files: [String]) throws -> Tensor {
        var generator = SystemRandomNumberGenerator()
        return try preprocessedFeatures(files.count) { try pipeline(contentsOf: files[$0], using: &generator).values }
    }

    /// [images, D] on the model's device, from encoded image bytes (JPEG, PNG, WebP).
    public func imageFeatures(encoded images: [[UInt8]], sources: [String]? = nil) throws -> Tensor {
        var generator = SystemRandomNumberGenerator()
        return try preprocessedFeatures(images.count) {
            try pipeline(encoded: images[$0], source: sources?[$0] ?? "<image \($0)>", using: &generator).values
        }
    }

    /// [N, D] on the model's device, from images already preprocessed to [N, 3, size, size].
    public func imageFeatures(pixels: Tensor) throws -> Tensor {
        try batched(pixels.size(0)) { range in
            try towers.encodeImages(pixels.narrowed(dim: 0, start: range.lowerBound, length: range.count).to(device: model.device)).features
        }
    }

    /// Features as float rows on the CPU, one per input.
    public static func rows(_ features: Tensor) throws -> [[Float]] {
        let values = try features.to(.float32, device: .cpu).floats()
        let width = features.shape[1]
        return (0..<features.shape[0]).map { Array(values[($0 * width)..<(($0 + 1) * width)]) }
    }

    private func preprocessedFeatures(_ count: Int, pixels: (Int) throws -> [Float]) throws -> Tensor {
        try batched(count) { range in
            let values = try range.flatMap(pixels)
            return try towers.encodeImages(Tensor(values, shape: [range.count, 3, imageSize, imageSize]).to(device: model.device)).features
        }
    }

    /// Runs `encode` on consecutive ranges of at most `batchSize` and concatenates the results.
    private func batched(_ count: Int, _ encode: (Range<Int>) throws -> Tensor) throws -> Tensor {
        guard count > 0 else { throw ModelError.invalidInput(name: "inputs", reason: "nothing to embed") }
        return try withNoGrad {
            var parts: [Tensor] = []
            for start in stride(from: 0, to: count, by: batchSize) { parts.append(try encode(start..<min(start + batchSize, count))) }
            return try cat(parts, dim: 0)
        }
    }
}
