import Foundation
import VLP
import VLPServer

/// `vlp-bench search`: FAISS through our `CFaiss` shim and `VectorIndex` against FAISS's own
/// Python bindings (`Benchmarks/search_peer.py`, Debian's python3-faiss: the same libfaiss
/// 1.7.3) on the same vectors in the same run: building Flat and HNSW32 indexes of 20,000
/// L2-normalised 128-d random vectors (HNSW32 once: a build takes tens of seconds here), batched top-10 search of 1,000 queries, and single-query latency.
/// Both sides get the same OpenMP threads. Prints medians, ratios (ours / peer) and HNSW recall@10
/// against the exact Flat results (ids must agree between the two sides for Flat).
enum SearchBenchmark {
    static let (count, dimension, queryCount, k) = (20_000, 128, 1_000, 10)

    static func run() throws {
        var generator = SplitMix64(seed: 42)
        func rows(_ n: Int) -> [[Float]] {
            (0..<n).map { _ in
                let row = (0..<dimension).map { _ in Float(Double(generator.next() >> 11) / Double(1 << 53)) - 0.5 }
                let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
                return row.map { $0 / norm }
            }
        }
        let base = rows(count), queries = rows(queryCount)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vlp-search-bench-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try NumpyArrayFile.write(base.flatMap { $0 }, shape: [count, dimension], to: folder.appendingPathComponent("base.npy"))
        try NumpyArrayFile.write(queries.flatMap { $0 }, shape: [queryCount, dimension], to: folder.appendingPathComponent("queries.npy"))

        var ours: [String: Double] = [:]
        var exact: [[Int]] = []
        var hnswIDs: [[Int]] = []
        for factory in ["Flat", "HNSW32"] {
            var builds: [Double] = [], batches: [Double] = [], singles: [Double] = []
            var index: VectorIndex!
            for _ in 0..<(factory == "Flat" ? 3 : 1) {
                let start = Date()
                index = try VectorIndex(dimension: dimension, factory: factory)
                try index.add(base)
                builds.append(Date().timeIntervalSince(start))
            }
            var found: [[VectorIndex.Neighbor]] = []
            for _ in 0..<5 {
                let start = Date()
                found = try index.search(queries, count: k)
                batches.append(Date().timeIntervalSince(start))
            }
            for query in queries.prefix(200) {
                let start = Date()
                _ = try index.search([query], count: k)
                singles.append(Date().timeIntervalSince(start))
            }
            ours[factory + "_build"] = PythonPeer.median(builds)
            ours[factory + "_batch"] = PythonPeer.median(batches)
            ours[factory + "_single"] = PythonPeer.median(singles)
            if factory == "Flat" { exact = found.map { $0.map(\.id) } } else { hnswIDs = found.map { $0.map(\.id) } }
        }
        let recall = zip(exact, hnswIDs).map { Double(Set($0).intersection($1).count) / Double(k) }.reduce(0, +) / Double(queryCount)

        let threads = ProcessInfo.processInfo.environment["OMP_NUM_THREADS"] ?? "\(ProcessInfo.processInfo.activeProcessorCount)"
        let peer = try PythonPeer.run("Benchmarks/search_peer.py", [folder.path, "\(k)"], environment: ["OMP_NUM_THREADS": threads],
                                      requirement: "python3-faiss")
        guard let flatIDs = peer["flat_ids"] as? [[Int]] else { throw PythonPeer.Failure("the search peer printed no flat_ids") }
        let agree = flatIDs == exact ? "same Flat ids" : "DIFFERENT Flat ids"

        print("search: \(count) × \(dimension)-d unit vectors, \(queryCount) queries, top \(k), OpenMP threads \(threads); median seconds, ratio = swift-vlp / python faiss")
        for factory in ["Flat", "HNSW32"] {
            for (what, label) in [("build", "build + add"), ("batch", "search, 1000 queries at once"), ("single", "search, one query")] {
                let key = factory + "_" + what
                guard let theirs = peer[key] as? Double, let mine = ours[key] else { continue }
                let scale = what == "single" ? 1e3 : 1
                let unit = what == "single" ? "ms" : "s "
                let name = (factory + " " + label).padding(toLength: 42, withPad: " ", startingAt: 0)
                print("  " + name + String(format: "swift-vlp %9.3f %@  python %9.3f %@  ratio %.2f", mine * scale, unit, theirs * scale, unit, mine / theirs))
            }
        }
        print(String(format: "  HNSW32 recall@10 against Flat: %.3f (python: %.3f); %@", recall, peer["hnsw_recall"] as? Double ?? .nan, agree))
    }
}
