import Foundation
import Torch

/// An evaluation set through a model's towers: features for ranking, token states for the
/// cross encoders.
public struct EncodedSet {
    /// [N, D] L2-normalised.
    public let imageFeatures: Tensor
    /// [N, 1 + patches, width].
    public let imageStates: Tensor
    /// [T, D] L2-normalised.
    public let textFeatures: Tensor
    /// [T, L, hidden].
    public let textStates: Tensor
    public let attentionMask: Tensor

    /// Image–text cosine similarities [N, T].
    public func similarity() throws -> Tensor { try imageFeatures.matmul(textFeatures.transposed(0, 1)) }
}

/// How evaluations score images and texts with any model, by its capabilities: tower features,
/// and match probabilities from a pair scorer (R2D2's cross encoders) or a joint encoder's ITM
/// head (the single stream).
public enum ModelScoring {
    /// Encodes a set with the model's towers (nil for the single-stream model), in batches, without gradients.
    public static func encode(_ model: PretrainingModel, _ set: EvaluationSet, batchSize: Int = 64) throws -> EncodedSet? {
        guard let towers = model.towers else { return nil }
        let device = model.device
        return try withNoGrad {
            var imageFeatures: [Tensor] = [], imageStates: [Tensor] = [], textFeatures: [Tensor] = [], textStates: [Tensor] = []
            for start in stride(from: 0, to: set.imageCount, by: batchSize) {
                let encoded = try towers.encodeImages(set.images.narrowed(dim: 0, start: start, length: min(batchSize, set.imageCount - start)).to(device: device))
                imageFeatures.append(encoded.features)
                imageStates.append(encoded.states)
            }
            let count = set.texts.count
            for start in stride(from: 0, to: count, by: batchSize) {
                let n = min(batchSize, count - start)
                let encoded = try towers.encodeTexts(set.inputIDs.narrowed(dim: 0, start: start, length: n).to(device: device),
                                                     attentionMask: set.attentionMask.narrowed(dim: 0, start: start, length: n).to(device: device))
                textFeatures.append(encoded.features)
                textStates.append(encoded.states)
            }
            guard !textFeatures.isEmpty else { throw EvaluationError.empty("evaluation set \(set.name)'s texts") }
            return EncodedSet(imageFeatures: try cat(imageFeatures), imageStates: try cat(imageStates),
                              textFeatures: try cat(textFeatures), textStates: try cat(textStates), attentionMask: try set.attentionMask.to(device: device))
        }
    }

    /// Match probabilities of (image, text) index pairs, in batches: the mean of R2D2's two
    /// heads, or the single-stream model's ITM probability.
    public static func matchProbabilities(_ model: PretrainingModel, _ set: EvaluationSet, _ encoded: EncodedSet?,
                                          pairs: [(image: Int, text: Int)], batchSize: Int = 128) throws -> [Float] {
        let device = model.device
        return try withNoGrad {
            var result: [Float] = []
            result.reserveCapacity(pairs.count)
            for start in stride(from: 0, to: pairs.count, by: batchSize) {
                let chunk = pairs[start..<min(pairs.count, start + batchSize)]
                // On the set's device (CPU) for the set's tensors, on the model's for the encoded ones.
                let imageIndex = try Tensor(chunk.map { Int64($0.image) }, shape: [chunk.count])
                let textIndex = try Tensor(chunk.map { Int64($0.text) }, shape: [chunk.count])
                let (imageIndexThere, textIndexThere) = (try imageIndex.to(device: device), try textIndex.to(device: device))
                let probabilities: Tensor
                if let scorer = model.pairScorer {
                    guard let encoded else { throw EvaluationError.empty("encoded set") }
                    let scores = try scorer.scorePairs(textStates: encoded.textStates.indexSelect(dim: 0, textIndexThere),
                                                       textMask: encoded.attentionMask.indexSelect(dim: 0, textIndexThere),
                                                       imageStates: encoded.imageStates.indexSelect(dim: 0, imageIndexThere))
                    probabilities = try scores.matchProbability()
                } else if let joint = model.jointEncoder {
                    let regions = try set.regions?.selecting(imageIndex, device: device)
                        ?? joint.regions(of: set.images.indexSelect(dim: 0, imageIndex).to(device: device))
                    let output = try joint(inputIDs: set.inputIDs.indexSelect(dim: 0, textIndex).to(device: device),
                                           attentionMask: set.attentionMask.indexSelect(dim: 0, textIndex).to(device: device), regions: regions)
                    probabilities = try output.matchLogits.softmax(dim: -1).select(dim: 1, index: 1)
                } else {
                    throw EvaluationError.empty("the \(model.architecture.rawValue) model's match head (it has none: check hasMatchHead first)")
                }
                result += try probabilities.to(.float32).floats()
            }
            return result
        }
    }
}
