import Foundation
import XCTest
@testable import VLP

final class EvaluationCompositionalTests: XCTestCase {
    func testCountsPerKindAndTiesAreFailures() throws {
        let result = try CompositionalAccuracy.compute([
            (kind: .attribute, positiveScore: 0.9, negativeScore: 0.1),   // win
            (kind: .attribute, positiveScore: 0.5, negativeScore: 0.5),   // tie: failure
            (kind: .attribute, positiveScore: 0.2, negativeScore: 0.3),   // loss
            (kind: .attribute, positiveScore: 0.7, negativeScore: 0.6),   // win
            (kind: .relation, positiveScore: 0.4, negativeScore: 0.6),    // loss
            (kind: .count, positiveScore: 1, negativeScore: -1),          // win
            (kind: .count, positiveScore: -.infinity, negativeScore: -.infinity),  // tie: failure
        ])
        XCTAssertEqual(result.counts, ["attribute": 4, "relation": 1, "count": 2])
        XCTAssertEqual(result.accuracy, ["attribute": 50, "relation": 0, "count": 50])
        XCTAssertEqual(result.overall, 300.0 / 7, accuracy: 1e-12)
        XCTAssertNil(result.accuracy["object"], "kinds without pairs are left out")
        let decoded = try JSONDecoder().decode(CompositionalResult.self, from: JSONEncoder().encode(result))
        XCTAssertEqual(decoded, result)
    }

    func testOverallWeighsPairsNotKinds() throws {
        var pairs: [CompositionalAccuracy.Comparison] = Array(repeating: (kind: .object, positiveScore: 1, negativeScore: 0), count: 9)
        pairs.append((kind: .relation, positiveScore: 0, negativeScore: 1))
        let result = try CompositionalAccuracy.compute(pairs)
        XCTAssertEqual(result.overall, 90)
        XCTAssertEqual(result.accuracy, ["object": 100, "relation": 0])
    }

    func testBadInputsThrow() {
        XCTAssertThrowsError(try CompositionalAccuracy.compute([])) { XCTAssertEqual("\($0)", "comparisons is empty") }
        XCTAssertThrowsError(try CompositionalAccuracy.compute([(kind: .count, positiveScore: 1, negativeScore: 0),
                                                                (kind: .count, positiveScore: 1, negativeScore: .nan)])) {
            XCTAssertEqual("\($0)", "negative scores holds NaN at index 1")
        }
    }
}
