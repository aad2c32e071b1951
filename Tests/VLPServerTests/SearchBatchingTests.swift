import Foundation
import Torch
import VLP
import XCTest
@testable import VLPServer

/// The async searches gather concurrent queries into batches; a batch must answer exactly what
/// the queries answer one at a time, and a full queue refuses instead of growing.
final class SearchBatchingTests: TorchTestCase {
    /// An R2D2 index of 10 scenes with their texts (so every kind of query, re-ranked ones too).
    func rerankableEngine(_ name: String, batching: SearchBatching) throws -> (engine: SearchEngine, samples: [Sample]) {
        let scratch = try SearchFixtures.folder(self, name)
        let checkpoint = try SearchFixtures.checkpoint(in: scratch, configuration: "r2d2-tiny")
        let samples = try SearchFixtures.scenes(count: 10)
        var builder = SearchIndexBuilder(embedder: try TowerEmbedder(checkpoint: checkpoint), checkpoint: checkpoint)
        builder.indexTexts = true
        let folder = try builder.build(from: .samples(samples, name: "scenes"), into: scratch.appendingPathComponent("b.index").path).folder
        return (try SearchEngine(indexFolder: folder, batching: batching), samples)
    }

    func testConcurrentQueriesGiveWhatEachGivesAlone() async throws {
        // A long window and a batch smaller than the queries: they arrive together, run as a
        // few full batches, and texts of different lengths share a padded forward.
        let (engine, samples) = try rerankableEngine("batch", batching: SearchBatching(window: 0.2, maximumBatch: 16))
        var queries: [SearchQuery] = []
        for (i, sample) in samples.enumerated() {
            let text = sample.texts[0].text
            queries.append(SearchQuery(input: .text(i % 3 == 0 ? text + "，" + text : text), count: 4, target: .images, rerank: i % 4 == 1 ? 5 : 0))
            queries.append(SearchQuery(input: .text(String(text.prefix(3))), count: 3, target: .texts, rerank: 0))
            guard case .pixels(let image)? = sample.image else { return XCTFail("scenes give pixels") }
            queries.append(SearchQuery(input: .image(try ImageEncoder.png(image)), count: i % 2 == 0 ? 3 : 5,
                                       target: i % 2 == 0 ? .images : .texts, rerank: i % 4 == 3 ? 4 : 0))
        }
        queries.append(SearchQuery(input: .image(Array("not an image".utf8)), count: 3, target: .images, rerank: 0))
        XCTAssertEqual(queries.count, 31)

        func alone(_ query: SearchQuery) throws -> [SearchIndex.Hit] {
            switch query.input {
            case .text(let text): return try engine.search(text: text, count: query.count, target: query.target, rerank: query.rerank)
            case .image(let bytes): return try engine.search(image: bytes, count: query.count, target: query.target, rerank: query.rerank)
            }
        }
        let expected = queries.map { query in Result { try alone(query) } }
        XCTAssertEqual(engine.batchStatistics.batches, 0, "synchronous searches do not go through the batcher")

        let answers = await withTaskGroup(of: (Int, Result<[SearchIndex.Hit], Error>).self) { group in
            for (i, query) in queries.enumerated() {
                group.addTask {
                    do {
                        switch query.input {
                        case .text(let text):
                            return (i, .success(try await engine.search(text: text, count: query.count, target: query.target, rerank: query.rerank)))
                        case .image(let bytes):
                            return (i, .success(try await engine.search(image: bytes, count: query.count, target: query.target, rerank: query.rerank)))
                        }
                    } catch {
                        return (i, .failure(error))
                    }
                }
            }
            var answers: [Int: Result<[SearchIndex.Hit], Error>] = [:]
            for await (i, answer) in group { answers[i] = answer }
            return answers
        }

        let statistics = engine.batchStatistics
        XCTAssertEqual(statistics.queries, queries.count)
        XCTAssertGreaterThan(statistics.largest, 1, "queries that arrive together share a forward")
        XCTAssertLessThanOrEqual(statistics.largest, 16)
        XCTAssertLessThan(statistics.batches, queries.count)
        for (i, want) in expected.enumerated() {
            let got = try XCTUnwrap(answers[i])
            switch (want, got) {
            case (.success(let want), .success(let got)):
                XCTAssertEqual(got.map(\.position), want.map(\.position), "query \(i)")
                XCTAssertEqual(got.map(\.text), want.map(\.text), "query \(i)")
                for (a, b) in zip(got, want) {
                    XCTAssertEqual(a.score, b.score, accuracy: 1e-5, "query \(i)")
                    XCTAssertEqual(a.match ?? -1, b.match ?? -1, accuracy: 1e-5, "query \(i)")
                }
                if queries[i].rerank > 0 { XCTAssertNotNil(got.first?.match, "query \(i) is re-ranked") }
            case (.failure(let want), .failure(let got)):
                XCTAssertEqual("\(got)", "\(want)", "query \(i)")
            default:
                XCTFail("query \(i): alone \(want), batched \(got)")
            }
        }
        // The image that does not decode failed alone; the others of its batch were answered.
        guard case .failure(let error) = try XCTUnwrap(answers[queries.count - 1]) else { return XCTFail("a text file is not an image") }
        XCTAssertTrue("\(error)".contains("invalid query"), "\(error)")
    }

    func testAFullQueueRefusesInsteadOfGrowing() async throws {
        let engine = try SearchEngine(indexFolder: try SearchFixtures.photoIndex(self, "queue", count: 3).index,
                                      batching: SearchBatching(window: 1.5, skipsWindowWhenAlone: false, maximumBatch: 8, maximumQueue: 2))
        let waiting = (0..<2).map { i in Task { try await engine.search(text: "query \(i)", count: 2) } }
        let deadline = Date().addingTimeInterval(10)
        while engine.batchStatistics.waiting < 2, Date() < deadline { try await Task.sleep(nanoseconds: 5_000_000) }
        XCTAssertEqual(engine.batchStatistics.waiting, 2)
        do {
            _ = try await engine.search(text: "one too many", count: 2)
            XCTFail("a third query while two wait is refused")
        } catch let error as SearchEngineError {
            XCTAssertEqual(error, .overloaded(waiting: 2))
        }
        for task in waiting {
            let hits = try await task.value
            XCTAssertEqual(hits.count, 2)
        }
        XCTAssertEqual(engine.batchStatistics, SearchBatchStatistics(waiting: 0, batches: 1, queries: 2, largest: 2))
        let after = try await engine.search(text: "room again", count: 1)
        XCTAssertEqual(after.count, 1, "once the queue drains, queries are taken again")
    }

    func testALoneQuerySkipsTheWindowOnlyWhenAllowed() async throws {
        let folder = try SearchFixtures.photoIndex(self, "alone", count: 2).index
        for skips in [true, false] {
            let engine = try SearchEngine(indexFolder: folder, batching: SearchBatching(window: 1, skipsWindowWhenAlone: skips))
            for turn in 0..<2 {
                let start = Date()
                _ = try await engine.search(text: "turn \(turn)", count: 1)
                let seconds = Date().timeIntervalSince(start)
                if skips {
                    XCTAssertLessThan(seconds, 0.6, "a lone query waited for company")
                } else {
                    XCTAssertGreaterThanOrEqual(seconds, 0.99, "the window was not waited")
                }
            }
            XCTAssertEqual(engine.batchStatistics.batches, 2)
        }
    }
}
