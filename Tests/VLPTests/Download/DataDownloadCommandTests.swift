import Foundation
import XCTest
@testable import VLP
@testable import VLPDownload
#if canImport(Glibc)
import Glibc
#endif

/// `vlp data download` through the built binary, against the loopback test server: a SIGKILL in
/// the middle of a run and a resume give the shards of an uninterrupted run, and the shards go on
/// through `vlp data inspect`, `vlp data filter` and `vlp pretrain`.
final class DataDownloadCommandTests: TorchTestCase {
    /// A started `vlp` child writing its output to files (a pipe left unread could block it);
    /// waited for without blocking the test server's threads.
    final class Child: @unchecked Sendable {
        let process = Process()
        let outputPath: String, errorPath: String

        init(_ arguments: [String], folder: String) throws {
            outputPath = folder + "/vlp-\(UUID().uuidString).out"
            errorPath = outputPath + ".err"
            guard FileManager.default.createFile(atPath: outputPath, contents: nil),
                  FileManager.default.createFile(atPath: errorPath, contents: nil)
            else { throw CocoaError(.fileWriteUnknown) }
            process.executableURL = try vlpExecutable()
            process.arguments = arguments
            process.currentDirectoryURL = VisionFixtures.repoRoot
            process.standardOutput = FileHandle(forWritingAtPath: outputPath)
            process.standardError = FileHandle(forWritingAtPath: errorPath)
        }

        func run() async throws -> (status: Int32, output: String, errors: String) {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                process.terminationHandler = { _ in continuation.resume() }
                do { try process.run() } catch { continuation.resume(throwing: error) }
            }
            return (process.terminationStatus, try String(contentsOfFile: outputPath, encoding: .utf8),
                    try String(contentsOfFile: errorPath, encoding: .utf8))
        }
    }

    func vlp(_ arguments: [String], folder: String) async throws -> (status: Int32, output: String, errors: String) {
        try await Child(arguments, folder: folder).run()
    }

    func testKilledRunResumesToTheSameShards() async throws {
        _ = try vlpExecutable()
        let server = DownloadTestServer(images: try downloadTestGeneratedImages(count: 24), delay: 0.1)
        try await server.start()
        defer { server.stop() }
        let folder = try makeDataTestFolder()
        let list = folder + "/list.csv"
        try ("url,caption\n" + (0..<24).map { "\(server.base)/img/gen-\($0).png,\"caption, \($0)\"" }.joined(separator: "\n"))
            .write(toFile: list, atomically: true, encoding: .utf8)
        let common = ["data", "download", list, "--samples-per-shard", "4", "--concurrency", "2", "--timeout", "5"]

        let whole = try await vlp(common + ["--out", folder + "/whole"], folder: folder)
        XCTAssertEqual(whole.status, 0, whole.errors)
        XCTAssertTrue(whole.output.contains("24 rows in 6 shards: 24 samples (100.0%), 0 failed"), whole.output)

        // Killed once two shards are complete.
        let killed = try Child(common + ["--out", folder + "/killed"], folder: folder)
        async let ended = killed.run()
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: folder + "/killed/" + ShardStats.statsName(1)) && Date() < deadline {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        kill(killed.process.processIdentifier, SIGKILL)
        let killedRun = try await ended
        XCTAssertEqual(killedRun.status, SIGKILL, "the run ended before it was killed; slow the server down")
        let complete = try readShardStats(folder + "/killed").map(\.shard)
        XCTAssertGreaterThanOrEqual(complete.count, 2)
        XCTAssertLessThan(complete.count, 6)
        let requestsBefore = (0..<24).map { server.count("/img/gen-\($0).png") }

        let resumed = try await vlp(common + ["--out", folder + "/killed", "--json"], folder: folder)
        XCTAssertEqual(resumed.status, 0, resumed.errors)
        let summary = try JSONSerialization.jsonObject(with: Data(resumed.output.utf8)) as? [String: Any]
        XCTAssertEqual(summary?["rows_fetched_this_run"] as? Int, 24 - 4 * complete.count)
        XCTAssertEqual(summary?["successes"] as? Int, 24)
        for row in 0..<24 {
            let asked = server.count("/img/gen-\(row).png") - requestsBefore[row]
            XCTAssertEqual(asked, complete.contains(row / 4) ? 0 : 1, "row \(row)")
        }
        for shard in 0..<6 {
            let a = try Data(contentsOf: URL(fileURLWithPath: folder + "/whole/" + ShardStats.tarName(shard)))
            let b = try Data(contentsOf: URL(fileURLWithPath: folder + "/killed/" + ShardStats.tarName(shard)))
            XCTAssertEqual(a, b, "shard \(shard)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder + "/killed").filter { $0.hasPrefix(".") }, [])
    }

    func testDownloadFilterPretrain() async throws {
        _ = try vlpExecutable()
        var images = try downloadTestGeneratedImages(count: 12)
        for (name, data) in try downloadTestPhotos() { images[name] = data }
        let server = DownloadTestServer(images: images)
        try await server.start()
        defer { server.stop() }
        let folder = try makeDataTestFolder()
        var rows: [[String: Any]] = (0..<12).map { row in
            ["url": server.base + "/img/gen-\(row).png", "title": "一张彩色条纹的图片 \(row)", "query": "条纹 图片 \(row)", "lang": "zh"]
        }
        rows.append(["url": server.base + "/img/rocket.jpg", "title": "火箭 发射 升空", "lang": "zh"])
        rows.append(["url": server.base + "/status/404", "title": "不存在 的 图片", "lang": "zh"])
        try writeURLList(rows, to: folder + "/zero.jsonl")

        let download = try await vlp(["data", "download", folder + "/zero.jsonl", "--out", folder + "/shards", "--resize", "64",
                                      "--samples-per-shard", "5"], folder: folder)
        XCTAssertEqual(download.status, 0, download.errors)
        XCTAssertTrue(download.output.contains("14 rows in 3 shards: 13 samples (92.9%), 1 failed"), download.output)
        XCTAssertTrue(download.output.contains("http_status    1 (404: 1)"), download.output)

        let inspect = try await vlp(["data", "inspect", folder + "/shards", "--json"], folder: folder)
        XCTAssertEqual(inspect.status, 0, inspect.errors)
        let total = (try JSONSerialization.jsonObject(with: Data(inspect.output.utf8)) as? [String: Any])?["total"] as? [String: Any]
        XCTAssertEqual(total?["samples"] as? Int, 13)
        XCTAssertEqual(total?["texts"] as? Int, 25)
        XCTAssertEqual(total?["skipped"] as? Int, 0)

        let filter = try await vlp(["data", "filter", folder + "/shards", folder + "/filtered", "--min-side", "32",
                                    "--min-words", "0", "--max-words", "0", "--min-vocabulary-rate", "0"], folder: folder)
        XCTAssertEqual(filter.status, 0, filter.errors)
        XCTAssertEqual(try DatasetFormat.openPart(folder + "/filtered").reader.readAll().count, 13)

        let config = folder + "/run.yaml"
        try """
            model: r2d2-tiny
            recipe: r2d2
            data: {path: \(folder)/filtered, format: webdataset, context_length: 16}
            steps: 2
            batch_size: 4
            optimizer: {lr: 1.0e-3}
            seed: 5
            output: \(folder)/run
            log_every: 1
            workers: 1
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let pretrain = try await vlp(["pretrain", "--config", config], folder: folder)
        XCTAssertEqual(pretrain.status, 0, pretrain.errors)
        XCTAssertTrue(pretrain.output.contains("pretrain: 2 steps"), pretrain.output)
    }

    func testBadOptionsAreClearErrors() async throws {
        _ = try vlpExecutable()
        let folder = try makeDataTestFolder()
        try "http://127.0.0.1/a.jpg\n".write(toFile: folder + "/list.txt", atomically: true, encoding: .utf8)
        try "a\n".write(toFile: folder + "/list.dat", atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            ([folder + "/list.dat", "--out", folder + "/o"], "cannot tell the list format from its name; pass --format"),
            ([folder + "/list.txt", "--out", folder + "/o", "--max-aspect", "0.5"], "--max-aspect is long side / short side"),
            ([folder + "/list.txt", "--out", folder + "/o", "--format", "xml"], "--format: \"xml\" is not one of jsonl, csv, tsv, text"),
            ([folder + "/missing.txt", "--out", folder + "/o"], "missing.txt: no such file or folder"),
            ([folder + "/list.txt", "--out", folder + "/o", "--concurrency", "0"], "--concurrency must be positive"),
        ]
        for (arguments, message) in cases {
            let run = try await vlp(["data", "download"] + arguments, folder: folder)
            XCTAssertNotEqual(run.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(run.errors.contains(message), "\(arguments): \(run.errors)")
        }
    }
}
