import Foundation

/// Metrics of binary image–text matching (the Zero benchmark's ICM / IQM tasks): each item is
/// a score (higher = more likely a match) and a label, 1 for a match and 0 for a mismatch.
public enum MatchingMetrics {
    /// The exact area under the ROC curve, by the Mann–Whitney U statistic with average ranks:
    ///
    ///   AUC = (R₊ − n₊(n₊ + 1)/2) / (n₊ · n₋),
    ///
    /// where R₊ is the sum of the positives' 1-based ranks in ascending score order and tied
    /// scores share the average of their ranks. Equivalently AUC = P(s₊ > s₋) + ½ P(s₊ = s₋)
    /// over all positive–negative pairs: a tie counts ½, so all-equal scores give 0.5. This is
    /// the value scikit-learn's `roc_auc_score` computes by the trapezoidal rule. It is
    /// computed here by counting pairs in integers (one sort), so it is exact up to the final
    /// division.
    ///
    /// Throws when the counts differ, the input is empty, a label is not 0/1, a score is NaN,
    /// or only one class is present.
    public static func auc(scores: [Double], labels: [Int]) throws -> Double {
        let (order, positives, negatives) = try sortedItems(scores: scores, labels: labels)
        // 2 · Σ over positives of (negatives scored lower + ½ · negatives scored equal).
        var twiceWins = 0, negativesBelow = 0
        forEachTieGroup(order, scores: scores, labels: labels) { groupPositives, groupNegatives in
            twiceWins += 2 * groupPositives * negativesBelow + groupPositives * groupNegatives
            negativesBelow += groupNegatives
        }
        return Double(twiceWins) / (2 * Double(positives) * Double(negatives))
    }

    /// The best accuracy (0–1) of the rule "predict a match when score ≥ threshold", over
    /// every distinct score as threshold plus one threshold above the highest score (predict
    /// no match at all; `maxScore.nextUp`, left out when the highest score is +∞):
    ///
    ///   accuracy(t) = ( #{positives with s ≥ t} + #{negatives with s < t} ) / n.
    ///
    /// Among equally good thresholds the lowest is returned. Same input checks as `auc`.
    public static func bestThresholdAccuracy(scores: [Double], labels: [Int]) throws -> (accuracy: Double, threshold: Double) {
        let (order, positives, _) = try sortedItems(scores: scores, labels: labels)
        // At the lowest threshold everything is predicted positive: the positives are right.
        var correct = positives, best = -1, bestThreshold = 0.0
        var start = 0
        forEachTieGroup(order, scores: scores, labels: labels) { groupPositives, groupNegatives in
            let threshold = scores[order[start]]
            if correct > best { best = correct; bestThreshold = threshold }
            // Raising the threshold past this group predicts it negative.
            correct += groupNegatives - groupPositives
            start += groupPositives + groupNegatives
        }
        let highest = scores[order[order.count - 1]]
        if correct > best && highest < .infinity { best = correct; bestThreshold = highest.nextUp }
        return (Double(best) / Double(scores.count), bestThreshold)
    }

    // MARK: - Implementation

    /// Checks the input and returns the item indices in ascending score order with the class
    /// counts.
    static func sortedItems(scores: [Double], labels: [Int]) throws -> (order: [Int], positives: Int, negatives: Int) {
        guard !scores.isEmpty else { throw EvaluationError.empty("scores") }
        guard labels.count == scores.count else {
            throw EvaluationError.countMismatch("labels (one per score)", expected: scores.count, actual: labels.count)
        }
        if let bad = labels.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw EvaluationError.invalidBinaryLabel(index: bad, label: labels[bad])
        }
        if let bad = scores.firstIndex(where: \.isNaN) {
            throw EvaluationError.notANumber("scores", index: bad)
        }
        let positives = labels.reduce(0, +), negatives = labels.count - positives
        guard positives > 0 && negatives > 0 else { throw EvaluationError.singleClass(label: labels[0]) }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        return (order, positives, negatives)
    }

    /// Calls `body(positives, negatives)` for each run of equal scores, lowest score first.
    static func forEachTieGroup(_ order: [Int], scores: [Double], labels: [Int], _ body: (Int, Int) -> Void) {
        var i = 0
        while i < order.count {
            var positives = 0, negatives = 0
            let value = scores[order[i]]
            while i < order.count && scores[order[i]] == value {
                if labels[order[i]] == 1 { positives += 1 } else { negatives += 1 }
                i += 1
            }
            body(positives, negatives)
        }
    }
}
