import Foundation
import Torch

/// Zero-shot classification with a model's towers: class names × prompt templates encoded and
/// averaged (`ZeroShotClassifier`), images scored against them, top-1 / top-5.
public enum ZeroShotEvaluation {
    /// A label set (every image with a class index) against `classNames` in label order.
    public static func run(_ model: PretrainingModel, on set: EvaluationSet, classNames: [String], templates: [String],
                           inputs: InputPipeline) throws -> ZeroShotResult {
        let labels = try set.classLabels.enumerated().map { index, label -> Int in
            guard let label else { throw EvaluationError.empty("the class label of sample \(set.sampleIDs[index])") }
            return label
        }
        return try run(model, images: set.images, labels: labels, classNames: classNames, templates: templates, inputs: inputs)
    }

    /// `images` already prepared by `inputs.images`; class prompts tokenized by `inputs`.
    public static func run(_ model: PretrainingModel, images: Tensor, labels: [Int], classNames: [String], templates: [String],
                           inputs: InputPipeline) throws -> ZeroShotResult {
        guard model.towers != nil else {
            throw EvaluationError.empty("zero-shot classification needs text and image towers; the single-stream model's")
        }
        let embedder = try TowerEmbedder(model: model, inputs: inputs, batchSize: 64)
        return try withNoGrad {
            let classifier = try ZeroShotClassifier(classNames: classNames, templates: templates, encodeTexts: embedder.textFeatures)
            let features = try embedder.imageFeatures(pixels: images)
            return try classifier.evaluate(imageFeatures: features, labels: labels)
        }
    }
}
