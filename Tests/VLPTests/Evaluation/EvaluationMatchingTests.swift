import Foundation
import XCTest
@testable import VLP

/// ROC AUC against scikit-learn (fixture) and hand-computed values; best-threshold accuracy
/// against a brute-force scan with scikit-learn's accuracy_score.
final class EvaluationMatchingTests: TorchTestCase {
    func testAUCMatchesScikitLearn() throws {
        let fixture = try EvaluationFixture.load()
        XCTAssertEqual(fixture.matching.count, 4)
        for c in fixture.matching {
            XCTAssertEqual(try MatchingMetrics.auc(scores: c.scores, labels: c.labels), c.auc, accuracy: 1e-9, c.name)
        }
    }

    func testBestThresholdAccuracyMatchesBruteForceScan() throws {
        let fixture = try EvaluationFixture.load()
        for c in fixture.matching {
            let best = try MatchingMetrics.bestThresholdAccuracy(scores: c.scores, labels: c.labels)
            XCTAssertEqual(best.accuracy, c.bestAccuracy, c.name)
            XCTAssertEqual(best.threshold, c.bestThreshold, c.name)
        }
    }

    func testAUCByHand() throws {
        XCTAssertEqual(try MatchingMetrics.auc(scores: [0.1, 0.2, 0.7, 0.9], labels: [0, 0, 1, 1]), 1, "perfectly separated")
        XCTAssertEqual(try MatchingMetrics.auc(scores: [0.1, 0.2, 0.7, 0.9], labels: [1, 1, 0, 0]), 0, "perfectly inverted")
        XCTAssertEqual(try MatchingMetrics.auc(scores: [3, 3, 3, 3, 3], labels: [0, 1, 1, 0, 1]), 0.5, "all ties")
        // scikit-learn's documented example.
        XCTAssertEqual(try MatchingMetrics.auc(scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1]), 0.75)
        // Pairs (pos 1, neg 1) tie: ½; (pos 2, neg 1) win: 1 → 1.5 / 2.
        XCTAssertEqual(try MatchingMetrics.auc(scores: [1, 1, 2], labels: [0, 1, 1]), 0.75)
        // -0 and +0 are the same score.
        XCTAssertEqual(try MatchingMetrics.auc(scores: [-0.0, 0.0], labels: [1, 0]), 0.5)
        XCTAssertEqual(try MatchingMetrics.auc(scores: [-.infinity, .infinity], labels: [0, 1]), 1)
    }

    func testBestThresholdByHand() throws {
        // Thresholds 0.1, 0.35, 0.4, 0.8, 0.8⁺ give 2, 3, 2, 3, 2 right of 4: the lower 0.35 wins.
        let best = try MatchingMetrics.bestThresholdAccuracy(scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1])
        XCTAssertEqual(best.accuracy, 0.75)
        XCTAssertEqual(best.threshold, 0.35)
        let separated = try MatchingMetrics.bestThresholdAccuracy(scores: [0.9, 0.1, 0.7, 0.2], labels: [1, 0, 1, 0])
        XCTAssertEqual(separated.accuracy, 1)
        XCTAssertEqual(separated.threshold, 0.7)
        // Mostly negatives with useless scores: predict nothing positive, just above the top.
        let none = try MatchingMetrics.bestThresholdAccuracy(scores: [2, 2, 2, 2], labels: [0, 0, 0, 1])
        XCTAssertEqual(none.accuracy, 0.75)
        XCTAssertEqual(none.threshold, (2.0).nextUp)
        XCTAssertGreaterThan(none.threshold, 2)
    }

    func testBadInputsThrow() {
        func message(_ body: () throws -> Any) -> String {
            do { _ = try body() } catch { return "\(error)" }
            return "no error"
        }
        XCTAssertEqual(message { try MatchingMetrics.auc(scores: [0.1, 0.2], labels: [1, 1]) },
                       "every label is 1: AUC and threshold accuracy need both classes")
        XCTAssertEqual(message { try MatchingMetrics.bestThresholdAccuracy(scores: [0.1, 0.2], labels: [0, 0]) },
                       "every label is 0: AUC and threshold accuracy need both classes")
        XCTAssertEqual(message { try MatchingMetrics.auc(scores: [0.1, 0.2], labels: [0, 2]) },
                       "label 2 at index 1: binary labels must be 0 or 1")
        XCTAssertEqual(message { try MatchingMetrics.auc(scores: [0.1, 0.2], labels: [0]) },
                       "labels (one per score): expected 2, got 1")
        XCTAssertEqual(message { try MatchingMetrics.auc(scores: [], labels: []) }, "scores is empty")
        XCTAssertEqual(message { try MatchingMetrics.auc(scores: [0.1, .nan], labels: [0, 1]) }, "scores holds NaN at index 1")
    }
}
