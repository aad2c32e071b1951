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

    /// Re-ranked queries answered together (one text forward, one image forward, shared pair
    /// forwards) give what each gives alone, concurrent server queries are batched, and a
    /// candidate image that does not decode fails only the query that has it.
    func testBatchedRerankingEqualsOneByOne() throws {
        let scratch = try SearchFixtures.folder(self, "rerank-batch")
        let checkpoint = try SearchFixtures.checkpoint(in: scratch, configuration: "r2d2-tiny")
        let samples = try SearchFixtures.scenes(count: 10)
        var builder = SearchIndexBuilder(embedder: try TowerEmbedder(checkpoint: checkpoint), checkpoint: checkpoint)
        builder.indexTexts = true
        let folder = try builder.build(from: .samples(samples, name: "scenes"), into: scratch.appendingPathComponent("b.index").path).folder
        let engine = try SearchEngine(indexFolder: folder, batching: SearchBatching(window: 0.5, skipsWindowWhenAlone: false))
        let reranker = try XCTUnwrap(SearchReranker(engine.embedder, weight: 1))

        let texts = samples.prefix(6).flatMap { $0.texts.prefix(1).map(\.text) }
        let images = try samples.prefix(3).map { sample -> [UInt8] in
            guard case .pixels(let image)? = sample.image else { throw XCTSkip("scenes give pixels") }
            return try ImageEncoder.png(image)
        }
        let alone = try texts.map { try engine.search(text: $0, count: 5, rerank: 5) }
            + images.map { try engine.search(image: $0, count: 4, target: .texts, rerank: 4) }

        // Direct: every request in one call.
        var requests = try texts.map { text -> SearchReranker.Request in
            let hits = try engine.search(text: text, count: 5)
            return .init(query: .text(text, images: hits.map { engine.index.imageFile(of: $0.entry) }), hits: hits)
        }
        requests += try images.map { .init(query: .image($0), hits: try engine.search(image: $0, count: 4, target: .texts)) }
        let together = try reranker.rerank(requests).map { try $0.get() }
        XCTAssertEqual(together.count, alone.count)
        for (a, b) in zip(alone, together) {
            XCTAssertEqual(a.map(\.position), b.map(\.position))
            XCTAssertEqual(a.map(\.text), b.map(\.text))
            for (x, y) in zip(a, b) {
                XCTAssertEqual(x.score, y.score, accuracy: 1e-5)
                XCTAssertEqual(x.match ?? -1, y.match ?? -2, accuracy: 1e-5)
            }
        }

        // Through the async API at once: answered in shared batches, the same answers.
        let answers = ResultBox(count: alone.count)
        let group = DispatchGroup()
        for (i, text) in texts.enumerated() {
            group.enter()
            Task { answers.set(i, await attempt { try await engine.search(text: text, count: 5, rerank: 5) }); group.leave() }
        }
        for (j, image) in images.enumerated() {
            group.enter()
            Task { answers.set(texts.count + j, await attempt { try await engine.search(image: image, count: 4, target: .texts, rerank: 4) }); group.leave() }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 120), .success)
        for (i, expected) in alone.enumerated() {
            let got = try XCTUnwrap(answers.get(i)).get()
            XCTAssertEqual(got.map(\.position), expected.map(\.position), "query \(i)")
            for (x, y) in zip(got, expected) { XCTAssertEqual(x.score, y.score, accuracy: 1e-5) }
        }
        XCTAssertLessThan(engine.batchStatistics.batches, alone.count, "\(engine.batchStatistics)")

        // A candidate file that is gone fails its own query, not the other one.
        var broken = requests[0]
        if case .text(let text, var files) = broken.query {
            files[1] = scratch.appendingPathComponent("gone.png")
            broken.query = .text(text, images: files)
        }
        let mixed = reranker.rerank([broken, requests[1]])
        XCTAssertThrowsError(try mixed[0].get()) { XCTAssertTrue("\($0)".contains("gone.png"), "\($0)") }
        XCTAssertEqual(try mixed[1].get().map(\.position), together[1].map(\.position))
    }

    /// Candidates' image states kept between queries: a second pass decodes and encodes nothing
    /// and gives the same scores; the cache stays within its bytes, least recently used out first.
    func testCachedCandidateStatesGiveTheSameScores() throws {
        let scratch = try SearchFixtures.folder(self, "rerank-cache")
        let checkpoint = try SearchFixtures.checkpoint(in: scratch, configuration: "r2d2-tiny")
        let samples = try SearchFixtures.scenes(count: 8)
        let builder = SearchIndexBuilder(embedder: try TowerEmbedder(checkpoint: checkpoint), checkpoint: checkpoint)
        let folder = try builder.build(from: .samples(samples, name: "scenes"), into: scratch.appendingPathComponent("c.index").path).folder
        let engine = try SearchEngine(indexFolder: folder, rerankCacheBytes: 0)
        let plain = try XCTUnwrap(SearchReranker(engine.embedder, weight: 1))
        let cached = try XCTUnwrap(SearchReranker(engine.embedder, weight: 1, cacheBytes: 1 << 20))
        let cache = try XCTUnwrap(cached.cache)
        let requests = try samples.prefix(4).map { sample -> SearchReranker.Request in
            let text = sample.texts[0].text
            let hits = try engine.search(text: text, count: 6)
            return .init(query: .text(text, images: hits.map { engine.index.imageFile(of: $0.entry) }), hits: hits)
        }
        let distinct = Set(requests.flatMap { $0.hits.map(\.position) }).count
        let expected = try plain.rerank(requests).map { try $0.get() }
        for pass in 0..<2 {
            let got = try cached.rerank(requests).map { try $0.get() }
            for (a, b) in zip(expected, got) {
                XCTAssertEqual(a.map(\.position), b.map(\.position), "pass \(pass)")
                for (x, y) in zip(a, b) { XCTAssertEqual(x.match ?? -1, y.match ?? -2, accuracy: 1e-5, "pass \(pass)") }
            }
            XCTAssertEqual(cache.count, distinct)
            XCTAssertEqual(cache.misses, distinct, "the first pass encodes each candidate once; the second none")
            XCTAssertEqual(cache.hits, pass * distinct)
        }

        // Room for two images' states: the least recently used leaves.
        let one = try Tensor.zeros([1, 5, 4])
        let small = ImageStateCache(capacityBytes: 2 * 5 * 4 * 4)
        small.insert(one, for: "a")
        small.insert(try one.clone(), for: "b")
        XCTAssertNotNil(small.states(for: "a"))
        small.insert(try one.clone(), for: "c")
        XCTAssertNil(small.states(for: "b"))
        XCTAssertNotNil(small.states(for: "a"))
        XCTAssertNotNil(small.states(for: "c"))
        XCTAssertEqual(small.totalBytes, 2 * 5 * 4 * 4)
        small.insert(try Tensor.zeros([1, 50, 4]), for: "too big")
        XCTAssertEqual(small.count, 2)
        XCTAssertNil(small.states(for: "too big"))
    }
}

/// The outcome of an async search.
private func attempt(_ search: () async throws -> [SearchIndex.Hit]) async -> Result<[SearchIndex.Hit], Error> {
    do {
        return .success(try await search())
    } catch {
        return .failure(error)
    }
}

/// Answers of concurrent tasks, by index.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<[SearchIndex.Hit], Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ i: Int, _ result: Result<[SearchIndex.Hit], Error>) {
        lock.lock()
        results[i] = result
        lock.unlock()
    }

    func get(_ i: Int) -> Result<[SearchIndex.Hit], Error>? {
        lock.lock()
        defer { lock.unlock() }
        return results[i]
    }
}
