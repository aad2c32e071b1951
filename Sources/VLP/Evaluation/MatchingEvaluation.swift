import Foundation
import Torch

/// ICM / IQM-style matching: each text is a candidate caption of its image with a 0/1 label;
/// the score is the towers' cosine similarity and, when the model has a match head, the match
/// probability. AUC is exact (ties ½); accuracy at the best threshold.
public struct MatchingEvaluation: Codable, Sendable {
    public var auc: Double
    public var accuracy: Double
    /// AUC of the match head's probabilities (R2D2's cross encoders, single-stream ITM).
    public var matchHeadAUC: Double?
    public var matchHeadAccuracy: Double?
    public var pairs: Int

    enum CodingKeys: String, CodingKey {
        case auc, accuracy, matchHeadAUC = "match_head_auc", matchHeadAccuracy = "match_head_accuracy", pairs
    }

    /// The AUC the report leads with: the match head's when there is one.
    public var bestAUC: Double { matchHeadAUC ?? auc }

    public static func run(_ model: PretrainingModel, on set: EvaluationSet) throws -> MatchingEvaluation {
        let pairs = set.textImage.enumerated().map { (image: $0.element, text: $0.offset) }
        var auc = Double.nan, accuracy = Double.nan
        let encoded = try ModelScoring.encode(model, set)
        if let encoded {
            let scores = try withNoGrad { try (encoded.imageFeatures.indexSelect(dim: 0, Tensor(set.textImage.map(Int64.init), shape: [pairs.count])
                                                    .to(device: encoded.imageFeatures.device))
                                                * encoded.textFeatures).sum(dim: 1).to(.float64).toArray(Double.self) }
            auc = try MatchingMetrics.auc(scores: scores, labels: set.labels)
            accuracy = try MatchingMetrics.bestThresholdAccuracy(scores: scores, labels: set.labels).accuracy * 100
        }
        var headAUC: Double?, headAccuracy: Double?
        if model.hasMatchHead {
            let probabilities = try ModelScoring.matchProbabilities(model, set, encoded, pairs: pairs).map(Double.init)
            headAUC = try MatchingMetrics.auc(scores: probabilities, labels: set.labels)
            headAccuracy = try MatchingMetrics.bestThresholdAccuracy(scores: probabilities, labels: set.labels).accuracy * 100
            if encoded == nil { auc = headAUC!; accuracy = headAccuracy! }
        }
        return MatchingEvaluation(auc: auc, accuracy: accuracy, matchHeadAUC: headAUC, matchHeadAccuracy: headAccuracy, pairs: pairs.count)
    }
}
