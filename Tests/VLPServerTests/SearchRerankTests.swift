import Foundation
import Torch
import VLP
import XCTest
@testable import VLPServer

/// Re-ranked search gives each candidate the match probability evaluation's two-stage ranking
/// computes for the same pair (`ModelScoring.matchProbabilities`), and orders by similarity +
/// probability.
final class SearchRerankTests: TorchTestCase {
    func testRerankedScoresEqualTheEvaluationsTwoStageScores() throws {
        let scratch = try SearchFixtures.folder(self, "rerank")
        let checkpoint = try SearchFixtures.checkpoint(in: scratch, configuration: "r2d2-tiny")
        let samples = try SearchFixtures.scenes(count: 8)
        var builder = SearchIndexBuilder(embedder: try TowerEmbedder(checkpoint: checkpoint), checkpoint: checkpoint)
        builder.indexTexts = true
        let folder = try builder.build(from: .samples(samples, name: "scenes"), into: scratch.appendingPathComponent("r.index").path).folder
        let engine = try SearchEngine(indexFolder: folder)
        XCTAssertTrue(engine.canRerank)

        let model = engine.embedder.model
        let set = try EvaluationSet.make(name: "scenes", samples: samples, inputs: engine.embedder.inputs)
        let encoded = try ModelScoring.encode(model, set)
        let imageOf = Dictionary(uniqueKeysWithValues: set.sampleIDs.enumerated().map { ($1, $0) })

        // Text → images: the top 5 of 8 re-ranked, then cut to 4.
        let query = set.texts[3]
        let plain = try engine.search(text: query, count: 5)
        let reranked = try engine.search(text: query, count: 4, rerank: 5)
        XCTAssertEqual(reranked.count, 4)
        XCTAssertEqual(Set(reranked.map(\.position)).isSubset(of: Set(plain.map(\.position))), true)
        let expected = try ModelScoring.matchProbabilities(model, set, encoded, pairs: plain.map { (image: imageOf[$0.entry.id]!, text: 3) })
        let similarity = Dictionary(uniqueKeysWithValues: plain.map { ($0.position, $0.score) })
        let probability = Dictionary(uniqueKeysWithValues: zip(plain.map(\.position), expected).map { ($0, $1) })
        for hit in reranked {
            XCTAssertEqual(hit.match ?? -1, probability[hit.position]!, accuracy: 1e-5)
            XCTAssertEqual(hit.score, similarity[hit.position]! + probability[hit.position]!, accuracy: 1e-5)
        }
        XCTAssertEqual(reranked.map(\.score), reranked.map(\.score).sorted(by: >))

        // Image → texts.
        guard case .pixels(let image)? = samples[2].image else { return XCTFail("scenes give pixels") }
        let bytes = try ImageEncoder.png(image)
        let texts = try engine.search(image: bytes, count: 6, target: .texts, rerank: 6)
        let textProbabilities = try ModelScoring.matchProbabilities(model, set, encoded,
                                                                    pairs: texts.map { (image: 2, text: set.texts.firstIndex(of: $0.text!)!) })
        for (hit, probability) in zip(texts, textProbabilities) { XCTAssertEqual(hit.match ?? -1, probability, accuracy: 1e-5) }
        XCTAssertEqual(texts.map(\.score), texts.map(\.score).sorted(by: >))

        // What cannot be re-ranked says why.
        XCTAssertThrowsError(try engine.search(image: bytes, count: 3, rerank: 3)) { XCTAssertTrue("\($0)".contains("cannot be re-ranked"), "\($0)") }
        XCTAssertThrowsError(try engine.search(text: query, count: 3, rerank: 101)) { XCTAssertTrue("\($0)".contains("0...100"), "\($0)") }
        let dual = try SearchFixtures.photoIndex(self, "dual", count: 2).index
        XCTAssertThrowsError(try SearchEngine(indexFolder: dual).search(text: "cat", count: 1, rerank: 2)) {
            XCTAssertTrue("\($0)".contains("cross encoders"), "\($0)")
        }
    }
}
