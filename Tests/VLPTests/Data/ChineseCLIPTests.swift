import XCTest
@testable import VLP

final class ChineseCLIPTests: TorchTestCase {
    func testRoundTrip() throws {
        let folder = try makeDataTestFolder()
        var samples = dataTestSamples(count: 4)
        // A text shared by two images keeps one text id and names both.
        let shared = SampleText("两张图共用的描述", kind: .caption, language: "zh", id: "77")
        samples[1].texts.append(shared)
        samples[2].texts.append(shared)
        let writer = try ChineseCLIP.Writer(folder: folder, split: "train")
        try writer.write(contentsOf: samples)
        try writer.finish()
        XCTAssertEqual(try ChineseCLIP.splits(in: folder), ["train"])

        let textsFile = try String(contentsOfFile: folder + "/train_texts.jsonl", encoding: .utf8)
        XCTAssertTrue(textsFile.contains("\"image_ids\":[\"s1\",\"s2\"]"), textsFile)
        XCTAssertTrue(textsFile.contains("\"text_id\":77"), "integer ids are written as numbers")

        let reader = try ChineseCLIP.Reader(folder: folder, split: "train")
        let read = try reader.readAll()
        XCTAssertEqual(reader.skipped, [])
        XCTAssertEqual(read.map(\.id), samples.map(\.id))
        // Texts come back in texts-file order, so an image's shared text may move; compare
        // each image's texts (all fields but the assigned ids) as sets.
        func key(_ t: SampleText) -> String { "\(t.text)|\(t.kind)|\(t.language ?? "-")|\(t.role.name)" }
        for (got, want) in zip(read, samples) {
            XCTAssertEqual(got.image, want.image)
            XCTAssertEqual(got.label, want.label)
            XCTAssertEqual(Set(got.texts.map(key)), Set(want.texts.map(key)))
            XCTAssertEqual(got.texts.count, want.texts.count)
        }
        XCTAssertEqual(read[1].texts.last?.id, "77")
    }

    /// A folder with several splits: a run names one (`split:` / `--split`) or is told which exist.
    func testOnePartOfAFolderWithSeveralSplits() throws {
        let folder = try makeDataTestFolder()
        for (split, count) in [("train", 3), ("valid", 2)] {
            let writer = try ChineseCLIP.Writer(folder: folder, split: split)
            try writer.write(contentsOf: dataTestSamples(count: count))
            try writer.finish()
        }
        XCTAssertThrowsError(try DatasetFormat.openPart(folder)) { error in
            XCTAssertTrue("\(error)".contains("holds 2 parts (train, valid)"), "\(error)")
        }
        XCTAssertThrowsError(try DatasetFormat.openPart(folder, part: "test")) { error in
            XCTAssertTrue("\(error)".contains("no part named test; it holds train, valid"), "\(error)")
        }
        XCTAssertEqual(try DatasetFormat.openPart(folder, part: "valid").reader.readAll().count, 2)

        let config = try TrainingDataDescription(ConfigReader(yaml: "{path: \"\(folder)\", split: train}", source: "test"))
        XCTAssertEqual(config.source, .dataset(path: folder, format: nil, split: "train", languages: nil))
        let source = try TrainingData.source(config, imageSize: 8)
        XCTAssertEqual(source.units.count, 1)
        XCTAssertEqual(try source.open(source.units[0]).readAll().map(\.id), ["s0", "s1", "s2"])
    }

    /// Parts written at different depths ("b" beside "a/web") all read back.
    func testPartsAtSeveralDepthsAreAllFound() throws {
        let folder = try makeDataTestFolder()
        for (name, count) in [("a/web", 2), ("b", 3)] {
            let writer = try DatasetFormat.jsonl.writer(folder: folder, part: name, encode: nil)
            try writer.write(contentsOf: dataTestSamples(count: count))
            try writer.finish()
        }
        let parts = try DatasetFormat.open(folder)
        XCTAssertEqual(parts.map(\.name), ["b", "a/web"])
        XCTAssertEqual(try parts.map { try $0.reader.readAll().count }, [3, 2])
    }

    func testEdgeCases() throws {
        let folder = dataFixtures + "/cnclip"
        let reader = try ChineseCLIP.Reader(folder: folder, split: "valid")
        let samples = try reader.readAll()
        XCTAssertEqual(samples.map(\.id), ["101", "102"])
        XCTAssertEqual(samples[0].texts.map(\.text), ["两个灰色的方块"])
        XCTAssertEqual(samples[1].texts.map(\.text), ["两个灰色的方块", "只属于102"])
        XCTAssertEqual(samples[0].texts[0].id, "1")
        // URL-safe base64 without padding decodes too.
        XCTAssertEqual(ImageSize(header: try samples[1].imageBytes()), ImageSize(width: 2, height: 2))

        let texts = folder + "/valid_texts.jsonl", images = folder + "/valid_imgs.tsv"
        let got = reader.skipped.map { "\(($0.file as NSString).lastPathComponent):\($0.line ?? 0) \($0.reason)" }
        XCTAssertEqual(got, [
            "valid_texts.jsonl:3 empty text",
            "valid_texts.jsonl:5 duplicate text_id 2",
            "valid_texts.jsonl:6 bad JSON" + (got[2].dropFirst("valid_texts.jsonl:6 bad JSON".count)),
            "valid_texts.jsonl:7 no \"image_ids\" list",
            "valid_imgs.tsv:3 image 103: bad base64",
            "valid_imgs.tsv:4 duplicate image id 101",
            "valid_imgs.tsv:5 no tab between id and image",
            "valid_imgs.tsv:6 image 104: no image data",
            "valid_texts.jsonl:4 text names image 999, which \(images) lacks",
        ])
        XCTAssertTrue(got[2].contains("bad JSON"))
        XCTAssertTrue(reader.skipped.first!.file == texts)
    }

    func testMissingSplitNamesThePath() {
        XCTAssertThrowsError(try ChineseCLIP.Reader(folder: "/nonexistent", split: "test")) { error in
            XCTAssertEqual(error as? DatasetError, .fileNotFound("/nonexistent/test_imgs.tsv"))
        }
    }
}
