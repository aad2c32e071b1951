import Foundation
import Torch

/// Texts and images to a model's L2-normalised contrastive features through its two towers, in
/// batches, without gradients — the one place `vlp embed`, `vlp index`/`vlp serve`, the
/// filter's semantic scorer and zero-shot evaluation all embed with a trained model. Inputs are
/// prepared by the model's own `InputPipeline` (a bundle's tokenizer, context length and image
/// preprocessing). Any architecture with towers works (R2D2, dual encoder); the single-stream
/// model has none.
public final class TowerEmbedder {
    public let model: PretrainingModel
    public let inputs: InputPipeline
    /// Inputs per forward pass.
    public var batchSize: Int
    public let towers: DualEncoder

    /// Tokens per text, special tokens included.
    public var maxLength: Int { inputs.contextLength }
    public var tokenizer: any TextTokenizer { inputs.tokenizer }
    public var pipeline: ImagePipeline { inputs.images }

    /// Embeds with `model`, preparing inputs by `inputs`; texts are cut at `maxLength` when given.
    public init(model: PretrainingModel, inputs: InputPipeline, batchSize: Int = 32, maxLength: Int? = nil) throws {
        guard let towers = model.towers else {
            throw ModelError.invalidInput(name: "model", reason: "embedding needs separate image and text towers (R2D2 or a dual encoder); a single-stream model has none")
        }
        if let maxLength, maxLength > model.configuration.text.maxPositions {
            throw ModelError.invalidInput(name: "maxLength", reason: "\(maxLength) tokens exceed the text tower's \(model.configuration.text.maxPositions) positions")
        }
        self.model = model
        self.inputs = inputs.withContextLength(maxLength)
        self.batchSize = max(1, batchSize)
        self.towers = towers
    }

    /// Embeds with an opened bundle's model and input pipeline.
    public convenience init(_ bundle: ModelBundle, batchSize: Int = 32, maxLength: Int? = nil) throws {
        try self.init(model: bundle.model, inputs: bundle.inputs, batchSize: batchSize, maxLength: maxLength)
    }

    /// Opens the bundle (a checkpoint folder, or a run folder's latest checkpoint) on `device`.
    public convenience init(checkpoint path: String, batchSize: Int = 32, maxLength: Int? = nil, device: Device = .cpu) throws {
        try self.init(ModelBundle.open(path, device: device), batchSize: batchSize, maxLength: maxLength)
    }

    /// Side of the square images the image tower takes.
    public var imageSize: Int { inputs.imageSize }

    /// [texts, D] on the model's device.
    public func textFeatures(_ texts: [String]) throws -> Tensor {
        try batched(texts.count) { range in
            let batch = try TextBatch(try texts[range].map(inputs.encode), paddingID: inputs.tokenizer.paddingID, device: model.device)
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
