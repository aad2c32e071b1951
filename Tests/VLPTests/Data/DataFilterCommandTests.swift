import Foundation
import XCTest
@testable import VLP

/// `vlp data filter` through the built binary: two parts in two formats, the JSON and text
/// reports, the output read back, bad options, and a checkpoint as the semantic scorer.
final class DataFilterCommandTests: TorchTestCase {
    /// `in/a/web.jsonl` (with one unparsable line) and `in/b/shard-000000.tar`, the same 31 samples each.
    func writeTwoParts(_ folder: String) throws -> String {
        let samples = try filterTestWebSamples()
        _ = try filterTestWriteJSONL(samples, folder: folder + "/jsonl")
        try FileManager.default.createDirectory(atPath: folder + "/in/a", withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: folder + "/jsonl/in/web.jsonl", toPath: folder + "/in/a/web.jsonl")
        try FileManager.default.moveItem(atPath: folder + "/jsonl/in/images", toPath: folder + "/in/a/images")
        let tar = try WebDataset.Writer(folder: folder + "/in/b")
        try tar.write(contentsOf: samples)
        try tar.finish()
        return folder + "/in"
    }

    func testFiltersEveryPartAndReportsAsJSON() throws {
        let folder = try makeDataTestFolder()
        let input = try writeTwoParts(folder)
        let run = try runVLP(["data", "filter", input, folder + "/out", "--json"])
        XCTAssertEqual(run.status, 0, run.errors)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any], run.output)
        let rules = try XCTUnwrap(object["rules"] as? [String: Any])
        XCTAssertEqual(rules["minImageSide"] as? Int, 200)
        XCTAssertEqual(rules["maxImagesPerText"] as? Int, 10)
        let parts = try XCTUnwrap(object["parts"] as? [[String: Any]])
        XCTAssertEqual(parts.map { $0["part"] as? String }, ["a/web", "b"])
        for part in parts {
            XCTAssertEqual(part["samplesRead"] as? Int, 31)
            XCTAssertEqual(part["samplesKept"] as? Int, 26)
            let texts = try XCTUnwrap(part["textsDropped"] as? [String: [String: Any]])
            XCTAssertEqual(texts["shared_by_too_many_images"]?["count"] as? Int, 11)
            XCTAssertEqual(texts["noisy_text"]?["count"] as? Int, 4)
            let samples = try XCTUnwrap(part["samplesDropped"] as? [String: [String: Any]])
            XCTAssertEqual(samples["unreadable_image"]?["count"] as? Int, 1)
            XCTAssertEqual(samples["no_text_left"]?["count"] as? Int, 2)
        }
        XCTAssertEqual(parts[0]["skipped"] as? Int, 1)
        XCTAssertEqual(parts[1]["skipped"] as? Int, 0)

        // Each part written under its own name, in its own format, and readable again.
        let written = try DatasetFormat.open(folder + "/out")
        XCTAssertEqual(written.map(\.name), ["a/web", "b"])
        XCTAssertTrue(written[0].reader is ZeroJSONL.Reader)
        XCTAssertTrue(written[1].reader is WebDataset.Reader)
        let jsonl = try written[0].reader.readAll(), tar = try written[1].reader.readAll()
        XCTAssertEqual(jsonl.count, 26)
        XCTAssertEqual(jsonl.map(\.id), tar.map(\.id))
        XCTAssertEqual(jsonl.map(\.texts), tar.map(\.texts))
        XCTAssertEqual(tar.first { $0.id == "cleaned" }?.texts.map(\.text), ["湖边的 秋天 & 红叶 风景"])
    }

    func testTextReportAndLAITImageSide() throws {
        let folder = try makeDataTestFolder()
        let input = try writeTwoParts(folder)
        let run = try runVLP(["data", "filter", input, folder + "/out", "--to", "webdataset", "--min-side", "300", "--max-images-per-text", "0"])
        XCTAssertEqual(run.status, 0, run.errors)
        XCTAssertTrue(run.output.contains("a/web: read 31 samples (62 texts), kept 1 samples (1 texts); 1 texts cleaned; 1 bad records skipped"), run.output)
        XCTAssertTrue(run.output.contains("b: read 31 samples (62 texts), kept 1 samples (1 texts); 1 texts cleaned; 0 bad records skipped"), run.output)
        XCTAssertTrue(run.output.contains("small_image       29"), run.output)
        XCTAssertTrue(run.output.contains("e.g. corrupt ("), run.output)
        XCTAssertFalse(run.output.contains("frequency pass"), "the frequency rule is off at 0")
        let written = try DatasetFormat.open(folder + "/out")
        XCTAssertEqual(written.map(\.name), ["a/web", "b"])
        XCTAssertTrue(written[0].reader is WebDataset.Reader, "--to webdataset")
        XCTAssertEqual(try written[1].reader.readAll().map(\.id), ["cleaned"])
    }

    func testBadOptionsAreClearErrors() throws {
        let folder = try makeDataTestFolder()
        let input = try writeTwoParts(folder)
        let cases: [([String], String)] = [
            (["--min-side=-1"], "--min-side must be 0 (off) or a positive number of pixels, not -1"),
            (["--max-aspect", "0.5"], "--max-aspect is long side / short side: 0 (off) or at least 1, not 0.5"),
            (["--min-vocabulary-rate", "1.5"], "--min-vocabulary-rate is a share of tokens, in [0, 1]"),
            (["--min-words", "30"], "--min-words (30) is above --max-words (20)"),
            (["--keep-best", "2"], "--keep-best needs --checkpoint"),
            (["--min-similarity", "0.2"], "--min-similarity needs --checkpoint"),
            (["--to", "csv"], "unknown format \"csv\""),
            (["--blocklist", folder + "/missing.txt"], "--blocklist \(folder)/missing.txt: cannot read the file"),
        ]
        for (options, message) in cases {
            let run = try runVLP(["data", "filter", input, folder + "/out"] + options)
            XCTAssertNotEqual(run.status, 0, "\(options)")
            XCTAssertTrue(run.errors.contains(message), "\(options): \(run.errors)")
        }
        let inside = try runVLP(["data", "filter", input, input + "/filtered"])
        XCTAssertNotEqual(inside.status, 0)
        XCTAssertTrue(inside.errors.contains("is the input or inside it"), inside.errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/out"), "nothing written on a bad option")
    }

    func testCheckpointKeepsTheBestTextPerImage() throws {
        let folder = try makeDataTestFolder()
        let input = try writeTwoParts(folder)
        try filterTestCheckpoint(folder + "/run")
        let run = try runVLP(["data", "filter", input + "/b", folder + "/out", "--checkpoint", folder + "/run", "--json"])
        XCTAssertEqual(run.status, 0, run.errors)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any], run.output)
        XCTAssertEqual((object["rules"] as? [String: Any])?["keepBest"] as? Int, 1, "LAIT's one best text per image")
        let part = try XCTUnwrap((object["parts"] as? [[String: Any]])?.first)
        // Positive texts left after the other rules, less one per kept image.
        let texts = try XCTUnwrap(part["textsDropped"] as? [String: [String: Any]])
        XCTAssertEqual(texts["not_among_best"]?["count"] as? Int, (2 + 1 + 1 + 1 + 1 + 10 + 20) - 25)
        XCTAssertEqual(part["samplesDropped"].map { ($0 as? [String: [String: Any]])?["unreadable_image"]?["count"] as? Int },
                       2, "the corrupt image, and the one cut short: decoding for the scorer finds it")
        let kept = try DatasetFormat.openPart(folder + "/out").reader.readAll()
        XCTAssertEqual(kept.count, 25)
        for sample in kept { XCTAssertEqual(sample.positiveTexts.count, 1, sample.id) }
        XCTAssertEqual(kept.first { $0.id == "good" }?.texts.filter { !$0.role.isPositive }.map(\.text), ["黑狗"])
    }
}
