import XCTest
@testable import VLP

final class ZeroJSONLTests: TorchTestCase {
    func testRoundTripKeepsTextsRolesLanguagesAndLabels() throws {
        let folder = try makeDataTestFolder()
        let samples = dataTestSamples(count: 5) + [
            Sample(id: "plain", image: .pixels(dataTestImage(seed: 9)), texts: [SampleText("just a caption")]),
            Sample(id: "fields", image: .encoded(dataTestPPM(dataTestImage(seed: 10))), texts: [
                SampleText("标题", kind: .title, language: "zh"),
                SampleText("内容", kind: .content, language: "zh"),
                SampleText("查询", kind: .query, language: "zh"),
            ], label: 1),
        ]
        let writer = try ZeroJSONL.Writer(path: folder + "/train.jsonl", encode: dataTestPPM)
        try writer.write(contentsOf: samples)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/train.jsonl"), "visible before finish")
        try writer.finish()

        let reader = try ZeroJSONL.Reader(path: folder + "/train.jsonl")
        let read = try reader.readAll()
        XCTAssertEqual(reader.skipped, [])
        XCTAssertEqual(try dataTestMaterialized(read), try dataTestMaterialized(samples))

        // The simple cases use the Zero field names, not the generic list.
        let lines = try String(contentsOfFile: folder + "/train.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(lines[5].contains("\"text\":\"just a caption\""), String(lines[5]))
        XCTAssertTrue(lines[6].contains("\"title\":\"标题\"") && lines[6].contains("\"lang\":\"zh\""), String(lines[6]))
        XCTAssertTrue(lines[0].contains("\"texts\":["))
    }

    func testEdgeCasesAreSkippedWithLineAndReason() throws {
        let path = dataFixtures + "/zero/edge.jsonl"
        let reader = try ZeroJSONL.Reader(path: path)
        let samples = try reader.readAll()
        XCTAssertEqual(samples.map(\.id), ["edge.jsonl:1", "edge.jsonl:3", "dup", "edge.jsonl:13"])
        XCTAssertEqual(samples[0].label, 1)
        XCTAssertEqual(samples[1].texts.map(\.kind), [.title, .content, .query])
        XCTAssertEqual(samples[1].texts.map(\.language), ["zh", "zh", "zh"])
        XCTAssertEqual(samples[3].texts, [SampleText("a negative", kind: .query, language: "en", role: .hardNegative(.count))])
        XCTAssertEqual(samples[3].label, 0)
        if case .file(let image) = samples[0].image {
            XCTAssertEqual(image, dataFixtures + "/zero/images/a.ppm")
        } else { XCTFail("expected a file image") }

        let skips = reader.skipped
        XCTAssertEqual(skips.map(\.line), [4, 5, 6, 7, 9, 10, 11, 12])
        XCTAssertTrue(skips.allSatisfy { $0.file == path })
        let reasons = skips.map(\.reason)
        XCTAssertEqual(reasons[0], "empty text")
        XCTAssertTrue(reasons[1].hasPrefix("image not found") && reasons[1].contains("missing.ppm"), reasons[1])
        XCTAssertTrue(reasons[2].hasPrefix("bad JSON"), reasons[2])
        XCTAssertEqual(reasons[3], "the line is JSON but not an object")
        XCTAssertEqual(reasons[4], "duplicate id \"dup\"")
        XCTAssertEqual(reasons[5], "no text")
        XCTAssertEqual(reasons[6], "\"label\" is not an integer")
        XCTAssertEqual(reasons[7], "no \"image_path\" string")
    }

    func testMissingFileIsATypedErrorNamingThePath() {
        XCTAssertThrowsError(try ZeroJSONL.Reader(path: "/nonexistent/x.jsonl")) { error in
            XCTAssertEqual(error as? DatasetError, .fileNotFound("/nonexistent/x.jsonl"))
            XCTAssertTrue("\(error)".contains("/nonexistent/x.jsonl"))
        }
    }

    func testWriterLeavesNothingWhenNotFinished() throws {
        let folder = try makeDataTestFolder()
        do {
            let writer = try ZeroJSONL.Writer(path: folder + "/a.jsonl")
            try writer.write(dataTestSamples(count: 1)[0])
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
        XCTAssertFalse(names.contains("a.jsonl"))
        XCTAssertFalse(names.contains { $0.contains(".tmp-") }, "\(names)")
    }

    func testPixelsWithoutEncoderIsAnError() throws {
        let folder = try makeDataTestFolder()
        let writer = try ZeroJSONL.Writer(path: folder + "/a.jsonl")
        let sample = Sample(id: "p", image: .pixels(dataTestImage(seed: 1)), texts: [SampleText("x")])
        XCTAssertThrowsError(try writer.write(sample)) { error in
            XCTAssertEqual(error as? DatasetError, .noEncoder(sample: "p"))
        }
    }
}
