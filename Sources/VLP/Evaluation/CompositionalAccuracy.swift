import Foundation

/// How often a model prefers an image's true caption to a rewritten hard negative, per kind
/// of rewrite (UNIMO's scene-graph rewriting: attribute, relation, object, count).
public struct CompositionalResult: Codable, Equatable, Sendable {
    /// `RewriteKind.rawValue` → percent of its pairs won; only kinds present in the input.
    public var accuracy: [String: Double]
    /// `RewriteKind.rawValue` → number of pairs; only kinds present in the input.
    public var counts: [String: Int]
    /// Percent of all pairs won (pairs weighted equally, not kinds).
    public var overall: Double

    public init(accuracy: [String: Double], counts: [String: Int], overall: Double) {
        self.accuracy = accuracy
        self.counts = counts
        self.overall = overall
    }
}

/// Accuracy of caption-vs-hard-negative comparisons:
///
///   acc(K) = 100 · #{pairs of kind K with s₊ > s₋} / #{pairs of kind K},
///   overall = 100 · #{pairs with s₊ > s₋} / #{pairs}.
///
/// A pair is won only when the positive scores strictly higher: a tie (s₊ = s₋) counts as a
/// failure, so a model that scores everything alike gets 0, not 50.
public enum CompositionalAccuracy {
    /// One comparison: the score of the true caption and of its rewrite of `kind`.
    public typealias Comparison = (kind: RewriteKind, positiveScore: Double, negativeScore: Double)

    /// Throws on an empty list or a NaN score (naming the pair).
    public static func compute(_ comparisons: [Comparison]) throws -> CompositionalResult {
        guard !comparisons.isEmpty else { throw EvaluationError.empty("comparisons") }
        var wins: [String: Int] = [:], counts: [String: Int] = [:], totalWins = 0
        for (index, pair) in comparisons.enumerated() {
            if pair.positiveScore.isNaN { throw EvaluationError.notANumber("positive scores", index: index) }
            if pair.negativeScore.isNaN { throw EvaluationError.notANumber("negative scores", index: index) }
            let kind = pair.kind.rawValue
            counts[kind, default: 0] += 1
            let won = pair.positiveScore > pair.negativeScore
            wins[kind, default: 0] += won ? 1 : 0
            totalWins += won ? 1 : 0
        }
        var accuracy: [String: Double] = [:]
        for (kind, count) in counts { accuracy[kind] = Double(wins[kind] ?? 0) / Double(count) * 100 }
        return CompositionalResult(accuracy: accuracy, counts: counts,
                                   overall: Double(totalWins) / Double(comparisons.count) * 100)
    }
}
