import Foundation
import VLP
import XCTest
@testable import VLPServer

final class VectorIndexTests: TorchTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("vector-index-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    // MARK: exact search

    func testFlatInnerProductMatchesBruteForce() throws {
        var generator = SplitMix64(seed: 1)
        let rows = randomRows(500, width: 32, normalized: true, using: &generator)
        let queries = randomRows(25, width: 32, normalized: true, using: &generator)
        let index = try VectorIndex(dimension: 32)
        XCTAssertEqual(try index.add(rows), 0..<500)
        XCTAssertEqual(index.count, 500)
        XCTAssertEqual(index.metric, .innerProduct)

        let results = try index.search(queries, count: 10)
        XCTAssertEqual(results.count, queries.count)
        for (query, found) in zip(queries, results) {
            assertSame(found, bruteForce(rows, query, k: 10, metric: .innerProduct))
        }
    }

    func testFlatL2MatchesBruteForce() throws {
        var generator = SplitMix64(seed: 2)
        let rows = randomRows(500, width: 32, normalized: false, using: &generator)
        let queries = randomRows(25, width: 32, normalized: false, using: &generator)
        let index = try VectorIndex(dimension: 32, metric: .l2)
        try index.add(rows)

        let results = try index.search(queries, count: 10)
        for (query, found) in zip(queries, results) {
            assertSame(found, bruteForce(rows, query, k: 10, metric: .l2))
        }
        // A stored row is its own nearest neighbor, at distance 0.
        let own = try index.search([rows[123]], count: 1)
        XCTAssertEqual(own[0].first?.id, 123)
        XCTAssertEqual(Double(own[0].first?.score ?? -1), 0, accuracy: 1e-5)
    }

    // MARK: approximate search

    func testHNSWRecallAtTenAgainstBruteForce() throws {
        var generator = SplitMix64(seed: 3)
        let rows = randomRows(500, width: 32, normalized: true, using: &generator)
        let queries = randomRows(50, width: 32, normalized: true, using: &generator)
        let index = try VectorIndex(dimension: 32, factory: "HNSW32")
        XCTAssertTrue(index.isTrained, "HNSW needs no training")
        try index.add(rows)

        let results = try index.search(queries, count: 10)
        var hits = 0
        for (query, found) in zip(queries, results) {
            XCTAssertEqual(found.count, 10)
            let truth = Set(bruteForce(rows, query, k: 10, metric: .innerProduct).map(\.id))
            hits += found.filter { truth.contains($0.id) }.count
        }
        let recall = Double(hits) / Double(queries.count * 10)
        XCTAssertGreaterThanOrEqual(recall, 0.9, "HNSW32 recall@10 = \(recall)")
    }

    func testSearchParametersTradeSpeedForRecallAndBadOnesAreErrors() throws {
        var generator = SplitMix64(seed: 9)
        let base = (0..<3000).map { _ in unitRow(64, &generator) }, queries = (0..<50).map { _ in unitRow(64, &generator) }
        let exact = try VectorIndex(dimension: 64)
        try exact.add(base)
        let truth = try exact.search(queries, count: 10).map { Set($0.map(\.id)) }
        let index = try VectorIndex(dimension: 64, factory: "HNSW16")
        try index.add(base)
        func recall() throws -> Double {
            let found = try index.search(queries, count: 10)
            return zip(found, truth).map { Double($1.intersection($0.map(\.id)).count) / 10 }.reduce(0, +) / Double(queries.count)
        }
        try index.setSearchParameters("efSearch=8")
        let narrow = try recall()
        try index.setSearchParameters("efSearch=512")
        let wide = try recall()
        XCTAssertGreaterThan(wide, narrow + 0.05, "efSearch=512 finds more true neighbours than efSearch=8 (\(wide) vs \(narrow))")
        XCTAssertGreaterThan(wide, 0.95)
        XCTAssertThrowsError(try index.setSearchParameters("nprobe=4")) { XCTAssertTrue("\($0)".contains("nprobe=4"), "\($0)") }
        XCTAssertThrowsError(try exact.setSearchParameters("efSearch=64")) { XCTAssertTrue("\($0)".contains("efSearch=64"), "\($0)") }
    }

    private func unitRow(_ width: Int, _ generator: inout SplitMix64) -> [Float] {
        let row = (0..<width).map { _ in Float(Double(generator.next() >> 11) / Double(1 << 53)) - 0.5 }
        let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return row.map { $0 / norm }
    }

    func testIVFNeedsTrainingBeforeAdd() throws {
        var generator = SplitMix64(seed: 4)
        // 16 lists × 39 is FAISS's minimum for training without a warning.
        let rows = randomRows(700, width: 32, normalized: true, using: &generator)
        let index = try VectorIndex(dimension: 32, factory: "IVF16,Flat")
        XCTAssertFalse(index.isTrained)

        XCTAssertThrowsError(try index.add(rows)) { error in
            XCTAssertEqual(error as? VectorIndexError, .notTrained(operation: "add", index: "\"IVF16,Flat\""))
            let text = String(describing: error)
            XCTAssertTrue(text.contains("\"IVF16,Flat\"") && text.contains("not trained") && text.contains("train("), text)
        }
        XCTAssertEqual(index.count, 0)

        try index.train(rows)
        XCTAssertTrue(index.isTrained)
        XCTAssertEqual(try index.add(rows), 0..<700)
        // A stored vector lands in the list of its own nearest centroid, which is the list
        // probed for it, so it finds itself first.
        let found = try index.search([rows[5], rows[600]], count: 3)
        XCTAssertEqual(found.map { $0.first?.id }, [5, 600])
        XCTAssertEqual(Double(found[0][0].score), 1, accuracy: 1e-5)
    }

    // MARK: errors

    func testBadFactoryStringIsAnErrorQuotingIt() {
        XCTAssertThrowsError(try VectorIndex(dimension: 32, factory: "Bogus42")) { error in
            guard case .invalidFactory(let factory, let dimension, let reason)? = error as? VectorIndexError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(factory, "Bogus42")
            XCTAssertEqual(dimension, 32)
            XCTAssertTrue(reason.contains("could not parse"), reason)
            XCTAssertFalse(reason.contains(".cpp"), "FAISS's source location is dropped: \(reason)")
            XCTAssertTrue(String(describing: error).contains("factory string \"Bogus42\""), "\(error)")
            XCTAssertEqual((error as? LocalizedError)?.errorDescription, String(describing: error))
        }
        XCTAssertThrowsError(try VectorIndex(dimension: 0)) { error in
            XCTAssertEqual(error as? VectorIndexError, .invalidDimension(0))
        }
    }

    func testWrongWidthNamesRowAndBothWidths() throws {
        let index = try VectorIndex(dimension: 4)
        let rows: [[Float]] = [[1, 0, 0, 0], [0, 1, 0], [0, 0, 1, 0]]
        XCTAssertThrowsError(try index.add(rows)) { error in
            XCTAssertEqual(error as? VectorIndexError, .wrongWidth(operation: "add", row: 1, expected: 4, got: 3))
            XCTAssertEqual(String(describing: error), "add: row 1 has 3 values, expected 4 (the index's dimension)")
        }
        XCTAssertEqual(index.count, 0, "nothing of a rejected batch is added")

        try index.add([[1, 0, 0, 0]])
        XCTAssertThrowsError(try index.search([[1, 0, 0, 0, 0]], count: 1)) { error in
            XCTAssertEqual(error as? VectorIndexError, .wrongWidth(operation: "search", row: 0, expected: 4, got: 5))
        }
    }

    func testZeroNeighborsIsAnError() throws {
        let index = try VectorIndex(dimension: 2)
        try index.add([[1, 0]])
        XCTAssertThrowsError(try index.search([[1, 0]], count: 0)) { error in
            XCTAssertEqual(error as? VectorIndexError, .invalidNeighborCount(0))
            XCTAssertTrue(String(describing: error).contains("(k) must be at least 1, got 0"), "\(error)")
        }
    }

    // MARK: files

    func testWriteReadRoundTripSearchesIdentically() throws {
        var generator = SplitMix64(seed: 5)
        let rows = randomRows(500, width: 32, normalized: false, using: &generator)
        let queries = randomRows(20, width: 32, normalized: false, using: &generator)
        let index = try VectorIndex(dimension: 32, factory: "HNSW32", metric: .l2)
        try index.add(rows)
        let file = folder.appendingPathComponent("images.faiss")

        try index.write(to: file)
        try index.write(to: file)  // replacing an existing file works the same way
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["images.faiss"],
                       "no temporary file is left behind")

        let read = try VectorIndex.read(from: file)
        XCTAssertEqual(read.dimension, 32)
        XCTAssertEqual(read.metric, .l2)
        XCTAssertEqual(read.count, 500)
        XCTAssertNil(read.factory)
        XCTAssertEqual(try read.search(queries, count: 10), try index.search(queries, count: 10))
    }

    func testWriteToMissingFolderNamesThePath() throws {
        let index = try VectorIndex(dimension: 2)
        let file = folder.appendingPathComponent("no-such-folder/index.faiss")
        XCTAssertThrowsError(try index.write(to: file)) { error in
            guard case .unwritableFile(let path, _)? = error as? VectorIndexError else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(path, file.path)
        }
    }

    func testReadingCorruptOrMissingFileNamesThePath() throws {
        var generator = SplitMix64(seed: 6)
        let corrupt = folder.appendingPathComponent("corrupt.faiss")
        try Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: corrupt)
        XCTAssertThrowsError(try VectorIndex.read(from: corrupt)) { error in
            guard case .unreadableFile(let path, _)? = error as? VectorIndexError else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(path, corrupt.path)
            XCTAssertTrue(String(describing: error).contains(corrupt.path), "\(error)")
        }

        let missing = folder.appendingPathComponent("missing.faiss")
        XCTAssertThrowsError(try VectorIndex.read(from: missing)) { error in
            XCTAssertEqual(error as? VectorIndexError, .missingFile(path: missing.path))
            XCTAssertEqual(String(describing: error), "no index file at \(missing.path)")
        }

        // A good file cut short is corrupt too.
        let index = try VectorIndex(dimension: 8)
        try index.add(randomRows(10, width: 8, normalized: false, using: &generator))
        let whole = folder.appendingPathComponent("whole.faiss")
        try index.write(to: whole)
        let truncated = folder.appendingPathComponent("truncated.faiss")
        try Data(try Data(contentsOf: whole).prefix(100)).write(to: truncated)
        XCTAssertThrowsError(try VectorIndex.read(from: truncated)) { error in
            guard case .unreadableFile(let path, _)? = error as? VectorIndexError else { return XCTFail("unexpected \(error)") }
            XCTAssertEqual(path, truncated.path)
        }
    }

    // MARK: small indexes

    func testFewerVectorsThanKReturnsOnlyRealOnes() throws {
        for factory in ["Flat", "HNSW32"] {
            let index = try VectorIndex(dimension: 3, factory: factory)
            XCTAssertEqual(try index.search([[1, 0, 0]], count: 5), [[]], "\(factory): empty index")
            XCTAssertEqual(try index.add([[1, 0, 0], [0, 1, 0], [0.5, 0.5, 0]]), 0..<3)

            let found = try index.search([[1, 0, 0], [0, 0, 1]], count: 10)
            XCTAssertEqual(found[0].map(\.id), [0, 2, 1], factory)
            XCTAssertEqual(found[0].map(\.score), [1, 0.5, 0], factory)
            XCTAssertEqual(Set(found[1].map(\.id)), [0, 1, 2], factory)
            XCTAssertEqual(try index.search([], count: 4), [], factory)

            try index.removeAll()
            XCTAssertEqual(index.count, 0, factory)
            XCTAssertEqual(try index.add([[0, 0, 1]]), 0..<1, "\(factory): ids start again at 0")
        }
    }

    func testConcurrentSearchesAgreeWithSerialOnes() throws {
        var generator = SplitMix64(seed: 7)
        let rows = randomRows(300, width: 16, normalized: true, using: &generator)
        let queries = randomRows(8, width: 16, normalized: true, using: &generator)
        let index = try VectorIndex(dimension: 16, factory: "HNSW32")
        try index.add(rows)
        let expected = try queries.map { try index.search([$0], count: 5)[0] }

        let results = UnsafeMutableBufferPointer<[VectorIndex.Neighbor]?>.allocate(capacity: 64)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            results[i] = try? index.search([queries[i % queries.count]], count: 5)[0]
        }
        for i in 0..<64 {
            XCTAssertEqual(results[i], expected[i % queries.count], "search \(i)")
        }
    }

    // MARK: helpers

    private func assertSame(_ found: [VectorIndex.Neighbor], _ expected: [VectorIndex.Neighbor],
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(found.map(\.id), expected.map(\.id), file: file, line: line)
        for (f, e) in zip(found, expected) {
            XCTAssertEqual(Double(f.score), Double(e.score), accuracy: 1e-5 * max(1, abs(Double(e.score))),
                           "id \(e.id)", file: file, line: line)
        }
    }
}

/// The k best rows for a query by exhaustive search in Double, ordered as FAISS orders them.
private func bruteForce(_ rows: [[Float]], _ query: [Float], k: Int, metric: VectorIndex.Metric) -> [VectorIndex.Neighbor] {
    let scored = rows.enumerated().map { id, row -> (id: Int, score: Double) in
        let score = metric == .innerProduct
            ? zip(row, query).reduce(0) { $0 + Double($1.0) * Double($1.1) }
            : zip(row, query).reduce(0) { $0 + (Double($1.0) - Double($1.1)) * (Double($1.0) - Double($1.1)) }
        return (id, score)
    }
    let sorted = scored.sorted { metric == .innerProduct ? $0.score > $1.score : $0.score < $1.score }
    return sorted.prefix(k).map { VectorIndex.Neighbor(id: $0.id, score: Float($0.score)) }
}

/// Rows uniform in [-1, 1), optionally scaled to unit length as embeddings are.
private func randomRows(_ count: Int, width: Int, normalized: Bool, using generator: inout SplitMix64) -> [[Float]] {
    (0..<count).map { _ in
        let row = (0..<width).map { _ in Float.random(in: -1..<1, using: &generator) }
        guard normalized else { return row }
        let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return row.map { $0 / norm }
    }
}
