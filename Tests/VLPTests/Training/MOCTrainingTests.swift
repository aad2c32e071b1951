import Foundation
import Torch
import XCTest
@testable import VLP

/// ImageBERT's MOC from detector regions on disk to `vlp pretrain`: the region files, the
/// built-in detector, padded region batches and the shipped config training.
final class MOCTrainingTests: TorchTestCase {
    /// Boxes and classes come from the scene graph; features are the box's pixels.
    func testTheBuiltInDetectorReportsEachObjectsBoxAndShape() throws {
        let corpus = try ScenesCorpus(seed: 4, imageSize: 48)
        let scene = corpus.scene(.pretrain, index: 2)
        let regions = try ScenesDetector.regions(of: scene, image: corpus.image(scene))
        XCTAssertEqual(regions.count, scene.objects.count)
        XCTAssertEqual(regions.classes, scene.objects.map { Int64(SceneShape.allCases.firstIndex(of: $0.shape)!) })
        for (i, object) in scene.objects.enumerated() {
            let box = Array(regions.boxes[(5 * i)..<(5 * i + 5)])
            let cx = (Double(object.cell.column) + 0.5 + object.jitterX) / 3
            XCTAssertEqual(Double(box[0] + box[2]) / 2, cx, accuracy: 1e-5, "box centred on the object")
            XCTAssertEqual(box[4], (box[2] - box[0]) * (box[3] - box[1]), accuracy: 1e-6)
            // The centre cells of the 4×4 grid show the object's colour (its fill), within the noise.
            let centre = Array(regions.features[(48 * i + 3 * 5)..<(48 * i + 3 * 5 + 3)])
            let rgb = object.color.rgb
            for (value, expected) in zip(centre, [rgb.r, rgb.g, rgb.b]) where object.shape != .cross && object.shape != .star {
                XCTAssertEqual(Double(value), Double(expected) / 255, accuracy: 0.12, "\(object)")
            }
        }
    }

    func testRegionFilesRoundTripAndNameWhatIsWrong() throws {
        let folder = try temporaryFolder("regions")
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = RegionFiles(folder: folder)
        let regions = try SampleRegions(features: [1, 2, 3, 4], boxes: [0, 0, 0.5, 0.5, 0.25, 0.5, 0.5, 1, 1, 0.25], classes: [3, 0], featureWidth: 2)
        try files.write(regions, for: "a")
        XCTAssertEqual(try files.read("a"), regions)
        // Corner boxes [R, 4] and int64 class ids, as NumPy writes them.
        try NumpyArrayFile.write([0, 0, 0.5, 0.5, 0.5, 0.5, 1, 1], shape: [2, 4], to: folder.appendingPathComponent("b.boxes.npy"))
        try NumpyArrayFile.write([1, 2, 3, 4], shape: [2, 2], to: folder.appendingPathComponent("b.features.npy"))
        // A float32 [2, 2] file has the 16 data bytes of two int64; its header is rewritten in place.
        var int64 = [UInt8](try NumpyArrayFile.encode([0, 0, 0, 0], shape: [2, 2]))
        int64.replaceSubrange((int64.count - 16)..<int64.count, with: [3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        for (old, new) in [("'<f4'", "'<i8'"), ("(2, 2)", "(2,)  ")] {
            let at = try XCTUnwrap((0...(int64.count - old.utf8.count)).first { int64[$0..<($0 + old.utf8.count)].elementsEqual(old.utf8) })
            int64.replaceSubrange(at..<(at + old.utf8.count), with: Array(new.utf8))
        }
        try Data(int64).write(to: folder.appendingPathComponent("b.classes.npy"))
        XCTAssertEqual(try files.read("b"), regions)
        XCTAssertThrowsError(try files.read("missing")) { XCTAssertTrue("\($0)".contains("missing.features.npy"), "\($0)") }
        try NumpyArrayFile.write([3], shape: [1], to: folder.appendingPathComponent("b.classes.npy"))
        XCTAssertThrowsError(try files.read("b")) { XCTAssertTrue("\($0)".contains("b.classes.npy") && "\($0)".contains("[2]"), "\($0)") }
        XCTAssertThrowsError(try files.read("../x")) { XCTAssertTrue("\($0)".contains("cannot name a file"), "\($0)") }
    }

    /// Samples with 3 and 1 regions batch to R = 3 with padding masked out and labelled -100.
    func testRegionBatchesPadToTheLargestSample() throws {
        let three = try SampleRegions(features: Array(repeating: 1, count: 6), boxes: Array(repeating: 0.5, count: 15), classes: [0, 1, 2], featureWidth: 2)
        let one = try SampleRegions(features: [7, 8], boxes: [0, 0, 1, 1, 1], classes: [5], featureWidth: 2)
        let batch = try RegionBatch([three, one], sampleIDs: ["x", "y"])
        XCTAssertEqual(batch.regions.features.shape, [2, 3, 2])
        XCTAssertEqual(try batch.regions.mask!.toArray(Int64.self), [1, 1, 1, 1, 0, 0])
        XCTAssertEqual(try batch.classes.toArray(Int64.self), [0, 1, 2, 5, -100, -100])
        XCTAssertEqual(try batch.regions.features.toArray(Float.self), [1, 1, 1, 1, 1, 1, 7, 8, 0, 0, 0, 0])
        let wide = try SampleRegions(features: [1, 2, 3], boxes: [0, 0, 1, 1, 1], classes: [0], featureWidth: 3)
        XCTAssertThrowsError(try RegionBatch([one, wide], sampleIDs: ["y", "z"])) { XCTAssertTrue("\($0)".contains("z"), "\($0)") }
    }

    /// `vlp data synth --regions`, then `configs/imagebert-moc-tiny.yaml` cut to a few steps:
    /// every ImageBERT objective, MOC included, is logged finite; the model without regions
    /// says what to set.
    func testShippedMOCConfigTrainsThroughTheCLI() throws {
        let root = try temporaryFolder("cli-moc")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = root.appendingPathComponent("scenes-regions")
        let synth = try runVLP(["data", "synth", "--out", corpus.path, "--format", "jsonl", "--size", "40", "--downstream-size", "10",
                                "--image-size", "32", "--regions"])
        XCTAssertEqual(synth.status, 0, synth.errors)
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../configs/imagebert-moc-tiny.yaml").standardized
        var yaml = try String(contentsOf: shipped, encoding: .utf8)
        for (old, new) in [("data/scenes-regions", corpus.path), ("steps: 300", "steps: 3"), ("every: 100", "every: 3"),
                           ("batch_size: 32", "batch_size: 8"), ("warmup_steps: 20", "warmup_steps: 1"), ("log_every: 20", "log_every: 1")] {
            XCTAssertTrue(yaml.contains(old), "the shipped config has \(old)")
            yaml = yaml.replacingOccurrences(of: old, with: new)
        }
        // One image's classes are lost: that sample is skipped, counted and reported.
        let regionFolder = corpus.appendingPathComponent("pretrain/regions")
        let lost = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: regionFolder.path).sorted().first { $0.hasSuffix(".classes.npy") })
        try FileManager.default.removeItem(at: regionFolder.appendingPathComponent(lost))
        let config = root.appendingPathComponent("moc.yaml")
        try yaml.write(to: config, atomically: true, encoding: .utf8)
        let out = root.appendingPathComponent("out")
        let run = try runVLP(["pretrain", "--config", config.path, "--output", out.path])
        XCTAssertEqual(run.status, 0, run.errors)
        XCTAssertTrue(run.output.contains("unreadable regions"), run.output)
        let steps = try MetricsLog.read(out.appendingPathComponent("metrics.jsonl")).filter { $0["moc"] != nil }
        XCTAssertEqual(steps.count, 3)
        for step in steps {
            for key in ["itm", "mlm", "moc", "mrfr"] {
                let value = try XCTUnwrap(step[key] as? Double, key)
                XCTAssertTrue(value.isFinite && value >= 0, "\(key) \(value)")
            }
        }
        // The trained model evaluates on the regions of another set of the corpus.
        let matching = try runVLP(["evaluate", "matching", "--checkpoint", out.path, "--data", corpus.appendingPathComponent("icm").path,
                                   "--format", "jsonl", "--split", "train", "--regions", corpus.appendingPathComponent("icm/regions").path, "--json"])
        XCTAssertEqual(matching.status, 0, matching.errors)
        let auc = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(matching.output.utf8)) as? [String: Any])?["match_head_auc"] as? Double)
        XCTAssertTrue((0...1).contains(auc), "\(auc)")
        let noRegions = try runVLP(["evaluate", "matching", "--checkpoint", out.path, "--data", corpus.appendingPathComponent("icm").path,
                                    "--format", "jsonl", "--split", "train"])
        XCTAssertNotEqual(noRegions.status, 0)
        XCTAssertTrue(noRegions.errors.contains("not pixel patches") && noRegions.errors.contains("--regions FOLDER"), noRegions.errors)

        let withoutRegions = yaml.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("  regions:") }.joined(separator: "\n")
        try withoutRegions.write(to: config, atomically: true, encoding: .utf8)
        let refused = try runVLP(["pretrain", "--config", config.path, "--output", root.appendingPathComponent("bare").path])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.errors.contains("takes detector regions 48 wide, not pixel patches") && refused.errors.contains("data key regions"), refused.errors)
    }
}
