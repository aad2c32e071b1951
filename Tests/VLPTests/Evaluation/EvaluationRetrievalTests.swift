import Foundation
import Torch
import XCTest
@testable import VLP

/// Recall@K against Chinese-CLIP's evaluation (fixture) and against hand-computed cases.
final class EvaluationRetrievalTests: TorchTestCase {
    func assertRecall(_ actual: RecallAtK, _ expected: EvaluationFixture.Recall, _ what: String,
                      file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.r1, expected.r1, accuracy: 1e-9, "\(what) R@1", file: file, line: line)
        XCTAssertEqual(actual.r5, expected.r5, accuracy: 1e-9, "\(what) R@5", file: file, line: line)
        XCTAssertEqual(actual.r10, expected.r10, accuracy: 1e-9, "\(what) R@10", file: file, line: line)
    }

    func testRecallMatchesChineseCLIPEvaluation() throws {
        let fixture = try EvaluationFixture.load()
        XCTAssertEqual(fixture.retrieval.count, 4)
        for c in fixture.retrieval {
            let result = try RetrievalMetrics.compute(similarity: c.floatSimilarity, images: c.images, texts: c.texts,
                                                      textImage: c.textImage)
            assertRecall(result.i2t, c.i2t, "\(c.name) i2t")
            assertRecall(result.t2i, c.t2i, "\(c.name) t2i")
            XCTAssertEqual(result.rmean, c.rmean, accuracy: 1e-9, "\(c.name) R@M")
        }
    }

    func testTensorInputMatchesArrayInput() throws {
        let fixture = try EvaluationFixture.load()
        for c in fixture.retrieval {
            let expected = try RetrievalMetrics.compute(similarity: c.floatSimilarity, images: c.images, texts: c.texts,
                                                        textImage: c.textImage)
            let float32 = try Tensor(c.floatSimilarity, shape: [c.images, c.texts])
            XCTAssertEqual(try RetrievalMetrics.compute(similarity: float32, textImage: c.textImage), expected, c.name)
            // The float32 values are exact in float64: the same ranking in double precision.
            let float64 = try Tensor(c.similarity, shape: [c.images, c.texts])
            XCTAssertEqual(try RetrievalMetrics.compute(similarity: float64, textImage: c.textImage), expected, c.name)
            // A transposed (non-contiguous) view of the [texts, images] matrix.
            let view = try Tensor(c.transposedSimilarity, shape: [c.texts, c.images]).transposed(0, 1)
            XCTAssertEqual(try RetrievalMetrics.compute(similarity: view, textImage: c.textImage), expected, c.name)
        }
    }

    func testTopKMatchesChineseCLIPPredictionLists() throws {
        let fixture = try EvaluationFixture.load()
        for c in fixture.retrieval {
            XCTAssertEqual(RetrievalMetrics.topK(c.floatSimilarity, rows: c.images, columns: c.texts, k: 10), c.i2tTop10,
                           "\(c.name) image→text top-10")
            XCTAssertEqual(RetrievalMetrics.topK(c.transposedSimilarity, rows: c.texts, columns: c.images, k: 10), c.t2iTop10,
                           "\(c.name) text→image top-10")
        }
    }

    func testRecallOfRankingsMatchesChineseCLIPComputeScore() throws {
        let fixture = try EvaluationFixture.load()
        for c in fixture.retrieval {
            let textsOfImage = (0..<c.images).map { i in Set(c.textImage.indices.filter { c.textImage[$0] == i }) }
            assertRecall(try RetrievalMetrics.recall(rankings: c.i2tTop10, relevant: textsOfImage), c.i2t, "\(c.name) i2t")
            assertRecall(try RetrievalMetrics.recall(rankings: c.t2iTop10, relevant: c.textImage.map { [$0] }), c.t2i,
                         "\(c.name) t2i")
        }
    }

    func testTopKBufferAndFullSortAgreeWithTiesAndNaN() {
        // Values from a small set so that most rows tie; one NaN, which ranks last.
        var scores = (0..<(7 * 40)).map { Float(($0 * 7919) % 5) * 0.5 }
        scores[3] = .nan
        let full = RetrievalMetrics.topK(scores, rows: 7, columns: 40, k: 40)
        for k in [0, 1, 3, 9, 10, 11, 39, 40, 41] {
            let top = RetrievalMetrics.topK(scores, rows: 7, columns: 40, k: k)
            XCTAssertEqual(top, full.map { Array($0.prefix(max(k, 0))) }, "k = \(k)")
        }
        XCTAssertEqual(full[0].last, 3, "NaN ranks last")
        for row in 0..<7 {
            let ranked = full[row].map { scores[row * 40 + $0] }.filter { !$0.isNaN }
            XCTAssertEqual(ranked, ranked.sorted(by: >), "row \(row) in descending order")
            XCTAssertEqual(Set(full[row]).count, 40)
        }
        XCTAssertEqual(RetrievalMetrics.topK([2, 1, 2, 3], rows: 1, columns: 4, k: 3), [[3, 0, 2]], "ties: lower index first")
        XCTAssertEqual(RetrievalMetrics.topK([Float](), rows: 0, columns: 5, k: 3), [])
    }

    func testHandComputedThreeByThree() throws {
        // Image 2's own text ranks second in its row (0.7 for text 1 beats 0.6); every text's
        // image ranks first in its column.
        let similarity: [Float] = [0.9, 0.1, 0.2,
                                   0.3, 0.8, 0.1,
                                   0.2, 0.7, 0.6]
        let result = try RetrievalMetrics.compute(similarity: similarity, images: 3, texts: 3, textImage: [0, 1, 2])
        XCTAssertEqual(result.i2t, RecallAtK(r1: 2.0 / 3 * 100, r5: 100, r10: 100), "hits / queries · 100, exactly")
        XCTAssertEqual(result.t2i, RecallAtK(r1: 100, r5: 100, r10: 100))
        XCTAssertEqual(result.rmean, (200.0 / 3 + 500) / 6, accuracy: 1e-12)
        XCTAssertEqual(result.i2t.mean, (200.0 / 3 + 200) / 3, accuracy: 1e-12)
    }

    func testSeveralCaptionsPerImageAndTies() throws {
        // Image 0 owns texts 1 and 3; image 1 owns texts 0 and 2. All scores equal, so the
        // lower index wins every tie: image 0's best text (1) has text 0 before it, image 1's
        // best text (0) is first; text j's image i has every image < i before it.
        let equal = [Float](repeating: 0.5, count: 2 * 4)
        let tied = try RetrievalMetrics.compute(similarity: equal, images: 2, texts: 4, textImage: [1, 0, 1, 0])
        XCTAssertEqual(tied.i2t.r1, 50)
        XCTAssertEqual(tied.t2i.r1, 50)
        XCTAssertEqual(tied.i2t.r5, 100)
        // Image 0 finds text 3 first (0.9): a hit at 1 through its second caption.
        var scores = equal
        scores[3] = 0.9
        let second = try RetrievalMetrics.compute(similarity: scores, images: 2, texts: 4, textImage: [1, 0, 1, 0])
        XCTAssertEqual(second.i2t.r1, 100)
        XCTAssertEqual(second.t2i.r1, 50)
        // R@5 and R@10 with more candidates than 5: rank 5 is a miss at 5 and a hit at 10.
        var wide = [Float](repeating: 0, count: 2 * 12)
        for j in 0..<5 { wide[j] = 1 }          // image 0 prefers texts 0…4
        let textImage = [1, 1, 1, 1, 1, 0] + [Int](repeating: 1, count: 6)
        let ranked = try RetrievalMetrics.compute(similarity: wide, images: 2, texts: 12, textImage: textImage)
        XCTAssertEqual(ranked.i2t.r1, 50)
        XCTAssertEqual(ranked.i2t.r5, 50)
        XCTAssertEqual(ranked.i2t.r10, 100)
    }

    func testBadInputsThrowErrorsNamingTheProblem() throws {
        func message(_ body: () throws -> Void) -> String {
            do { try body() } catch { return "\(error)" }
            return "no error"
        }
        XCTAssertEqual(message { _ = try RetrievalMetrics.compute(similarity: [1, 2, 3], images: 2, texts: 2, textImage: [0, 1]) },
                       "similarity values (images × texts = 2 × 2): expected 4, got 3")
        XCTAssertEqual(message { _ = try RetrievalMetrics.compute(similarity: [1, 2, 3, 4], images: 2, texts: 2, textImage: [0]) },
                       "textImage entries (one per text): expected 2, got 1")
        XCTAssertEqual(message { _ = try RetrievalMetrics.compute(similarity: [1, 2, 3, 4], images: 2, texts: 2, textImage: [0, 2]) },
                       "text 1 belongs to image 2, outside 0..<2")
        XCTAssertEqual(message { _ = try RetrievalMetrics.compute(similarity: [1, 2, 3, 4], images: 2, texts: 2, textImage: [0, -1]) },
                       "text 1 belongs to image -1, outside 0..<2")
        XCTAssertEqual(message { _ = try RetrievalMetrics.compute(similarity: [1, 2, 3, 4], images: 2, texts: 2, textImage: [1, 1]) },
                       "image 0 has no text: image→text recall needs at least one text per image")
        XCTAssertEqual(message { _ = try RetrievalMetrics.compute(similarity: [1, .nan, 3, 4], images: 2, texts: 2, textImage: [0, 1]) },
                       "similarity holds NaN at index 1")
        XCTAssertEqual(message { _ = try RetrievalMetrics.compute(similarity: [], images: 0, texts: 2, textImage: [0, 0]) },
                       "images is empty")
        XCTAssertEqual(message { _ = try RetrievalMetrics.compute(similarity: try Tensor([Float](repeating: 0, count: 8), shape: [2, 2, 2]), textImage: [0, 1]) },
                       "similarity: expected shape [images, texts], got [2, 2, 2]")
        XCTAssertEqual(message { _ = try RetrievalMetrics.compute(similarity: try Tensor([1, 2, 3, 4] as [Int64], shape: [2, 2]), textImage: [0, 1]) },
                       "similarity: expected a floating-point tensor, got dtype int64")
        XCTAssertThrowsError(try RetrievalMetrics.recall(rankings: [[0]], relevant: []))
        XCTAssertThrowsError(try RetrievalMetrics.recall(rankings: [], relevant: []))
    }

    func testResultEncodesAsJSON() throws {
        let result = RetrievalResult(i2t: RecallAtK(r1: 10, r5: 20, r10: 30), t2i: RecallAtK(r1: 40, r5: 50, r10: 60))
        XCTAssertEqual(result.rmean, 35)
        let decoded = try JSONDecoder().decode(RetrievalResult.self, from: JSONEncoder().encode(result))
        XCTAssertEqual(decoded, result)
    }

    /// A sweep re-orders one top k with one set of match probabilities: its point at the
    /// reported weight is the reported two-stage result, w = 0 (similarity alone) is the first
    /// stage's ranking at R@1/5/10 when k = 10, and the best weight is the best R@M's.
    func testRerankSweepAgreesWithTheSingleWeightRuns() throws {
        manualSeed(4)
        let model = try PretrainingModel(try ModelConfigurationRegistry.load("r2d2-tiny"))
        model.module.eval()
        let size = model.configuration.vision.imageSize
        let inputs = InputPipeline(tokenizer: try BertTokenizer.chineseCLIP(), contextLength: 16,
                                   images: try ImagePipeline.clipEvaluation(size: size), imageSize: size)
        let samples = try ScenesCorpus(seed: 6, imageSize: size).samples(.icr, count: 24, split: .test)
        let set = try EvaluationSet.make(name: "scenes", samples: samples, inputs: inputs)
        let weights = [0, 0.3, 1, 3.0]
        let swept = try withNoGrad { try RetrievalEvaluation.run(model, on: set, rerankTopK: 10, rerankWeight: 0.3, rerankWeights: weights) }
        let points = try XCTUnwrap(swept.sweep)
        XCTAssertEqual(points.map(\.score), weights.map(RerankScore.weighted) + [.matchOnly])
        XCTAssertEqual(swept.rerankWeight, 0.3)
        XCTAssertEqual(points[1].result, swept.reranked)
        XCTAssertEqual(points[0].result, swept.ranking)
        for (w, point) in zip(weights, points) {
            let alone = try withNoGrad { try RetrievalEvaluation.run(model, on: set, rerankTopK: 10, rerankWeight: w) }
            XCTAssertEqual(alone.reranked, point.result, "w = \(w)")
        }
        let best = try XCTUnwrap(swept.bestSweptWeight)
        XCTAssertEqual(best.result.rmean, points.dropLast().map(\.result.rmean).max())
        XCTAssertEqual(best.weight, zip(weights, points).first { $0.1.result.rmean == best.result.rmean }!.0, "the smallest w of a tie")
        let decoded = try JSONDecoder().decode(RetrievalEvaluation.self, from: JSONEncoder().encode(swept))
        XCTAssertEqual(decoded.sweep?.map(\.score), points.map(\.score))
        XCTAssertEqual(RerankScore.weighted(0).formula, "cos")
        XCTAssertEqual(RerankScore.weighted(0.03).formula, "cos + 0.03·p")
        XCTAssertEqual(RerankScore.weighted(1).formula, "cos + 1·p")
    }
}
