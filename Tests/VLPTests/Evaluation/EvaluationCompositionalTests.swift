import Foundation
import Torch
import XCTest
@testable import VLP

final class EvaluationCompositionalTests: TorchTestCase {
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

    /// A rewrite past the context-length cut leaves both texts the same tokens: such a pair is
    /// counted as indistinguishable and left out, not scored as a tie lost.
    func testPairsThatTokenizeTheSameAfterTheCutAreLeftOut() throws {
        let original = "灰色背景上有一个红色的圆形和一个蓝色的方块，红色的圆形在蓝色方块的左边。"
        let sample = Sample(id: "s", image: .pixels(RGBImage(width: 40, height: 40, fill: (r: 120, g: 120, b: 120))), texts: [
            SampleText(original, kind: .title, language: "zh"),
            SampleText(original.replacingOccurrences(of: "左边", with: "右边"), kind: .title, language: "zh", role: .hardNegative(.relation)),
            SampleText(original.replacingOccurrences(of: "红色的圆形和", with: "绿色的圆形和"), kind: .title, language: "zh", role: .hardNegative(.attribute)),
        ])
        manualSeed(3)
        let model = try PretrainingModel(try ModelConfigurationRegistry.load("r2d2-tiny-dual"))
        model.module.eval()
        let inputs = InputPipeline(tokenizer: try BertTokenizer.chineseCLIP(), contextLength: 16,
                                   images: try ImagePipeline.clipEvaluation(size: 32), imageSize: 32)
        let cut = try EvaluationSet.make(name: "cut", samples: [sample], inputs: inputs, includeNegatives: true)
        let short = try withNoGrad { try CompositionalEvaluation.run(model, on: cut) }
        XCTAssertEqual(short.indistinguishable, ["relation": 1])
        XCTAssertEqual(short.dualEncoder?.counts, ["attribute": 1])
        let whole = try EvaluationSet.make(name: "whole", samples: [sample], inputs: inputs.withContextLength(64), includeNegatives: true)
        let long = try withNoGrad { try CompositionalEvaluation.run(model, on: whole) }
        XCTAssertEqual(long.indistinguishable, [:])
        XCTAssertEqual(long.dualEncoder?.counts, ["attribute": 1, "relation": 1])
        let decoded = try JSONDecoder().decode(CompositionalEvaluation.self, from: JSONEncoder().encode(short))
        XCTAssertEqual(decoded.indistinguishable, ["relation": 1])
    }
}
