import Foundation
import Torch

/// Zero-shot classification with a model's towers: class names × prompt templates encoded and
/// averaged (`ZeroShotClassifier`), images scored against them, top-1 / top-5.
public enum ZeroShotEvaluation {
    /// A label set (every image with a class index) against `classNames` in label order.
    public static func run(_ model: PretrainingModel, on set: EvaluationSet, classNames: [String], templates: [String],
                           tokenizer: BertTokenizer, contextLength: Int) throws -> ZeroShotResult {
        let labels = try set.classLabels.enumerated().map { index, label -> Int in
            guard let label else { throw EvaluationError.empty("the class label of sample \(set.sampleIDs[index])") }
            return label
        }
        return try run(model, images: set.images, labels: labels, classNames: classNames, templates: templates,
                       tokenizer: tokenizer, contextLength: contextLength)
    }

    public static func run(_ model: PretrainingModel, images: Tensor, labels: [Int], classNames: [String], templates: [String],
                           tokenizer: BertTokenizer, contextLength: Int) throws -> ZeroShotResult {
        guard let towers = model.towers else {
            throw EvaluationError.empty("zero-shot classification needs text and image towers; the single-stream model's")
        }
        let device = model.device
        return try withNoGrad {
            let classifier = try ZeroShotClassifier(classNames: classNames, templates: templates) { prompts in
                let batch = try TextBatch(try prompts.map { try tokenizer.encode($0, maxLength: contextLength) }, paddingID: tokenizer.paddingID)
                return try towers.encodeTexts(batch.inputIDs.to(device: device), attentionMask: batch.attentionMask.to(device: device)).features
            }
            var features: [Tensor] = []
            for start in stride(from: 0, to: images.size(0), by: 64) {
                features.append(try towers.encodeImages(images.narrowed(dim: 0, start: start, length: min(64, images.size(0) - start)).to(device: device)).features)
            }
            return try classifier.evaluate(imageFeatures: cat(features), labels: labels)
        }
    }
}
