import XCTest
@testable import VLP

final class ImagePipelineTests: TorchTestCase {
    /// CLIP evaluation preprocessing of a real photo: Pillow's resize + crop (bit-exact for a
    /// PNG, see ResizeTests), then CLIP normalization.
    func testClipEvaluationOfAPhoto() throws {
        let manifest = try VisionFixtures.checkedManifest()
        let reference = try XCTUnwrap(manifest.resizeCases.first { $0.name == "chelsea-clip224" })
        let pipeline = try ImagePipeline.clipEvaluation(size: 224)
        var generator = TestGenerator(seed: 0)
        let data = try pipeline(contentsOf: try VisionFixtures.photoPath("chelsea.png"), using: &generator)
        XCTAssertEqual(data.shape, [3, 224, 224])
        // Undo the normalization at the sampled pixels and compare with Pillow's bytes.
        let sample = try VisionFixtures.sample(reference.sample)
        let s = reference.stride
        let clip = Normalization.clip
        var worst: Float = 0
        for y in 0..<sample.height {
            for x in 0..<sample.width {
                for c in 0..<3 {
                    let v = data.values[(c * 224 + y * s) * 224 + x * s]
                    let pillow = (Float(sample.pixels[(y * sample.width + x) * 3 + c]) / 255 - clip.mean[c]) / clip.std[c]
                    worst = max(worst, abs(v - pillow))
                }
            }
        }
        XCTAssertEqual(worst, 0, "CLIP preprocessing differs from Pillow + normalization")
    }

    func testDecodeHintComesFromTheFirstStep() throws {
        XCTAssertEqual(try ImagePipeline.clipEvaluation(size: 224).decodeShortSideHint, 224)
        XCTAssertEqual(try ImagePipeline.imagenetEvaluation().decodeShortSideHint, 256)
        XCTAssertNil(try ImagePipeline.clipTraining().decodeShortSideHint)
        var exact = try ImagePipeline.clipEvaluation(size: 224)
        exact.allowsDCTScaling = false
        XCTAssertNil(exact.decodeShortSideHint)
    }

    /// With DCT scaling the result is close to a full-resolution decode (not identical).
    func testDCTScaledDecodeGivesNearlyTheSameResult() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try VisionFixtures.photoPath("retina.jpg"))))
        let pipeline = try ImagePipeline.clipEvaluation(size: 160)
        var generator = TestGenerator(seed: 0)
        let fast = try pipeline(encoded: bytes, using: &generator)          // 1411 → 1/8 = 177 ≥ 160
        let full = try pipeline(try ImageDecoder().decode(bytes), using: &generator)
        let meanAbs = zip(fast.values, full.values).map { abs($0 - $1) }.reduce(0, +) / Float(fast.values.count)
        print("vision-parity: retina 1/8 DCT decode vs full decode, CLIP 160: mean |Δ| = \(meanAbs) (normalized units)")
        XCTAssertEqual(fast.shape, full.shape)
        XCTAssertGreaterThan(meanAbs, 0)          // it did decode at a smaller scale
        XCTAssertLessThan(meanAbs, 0.05)
        var exact = pipeline
        exact.allowsDCTScaling = false
        XCTAssertEqual(try exact(encoded: bytes, using: &generator), full)
    }

    func testTrainingPipelineIsDeterministicFromTheSeed() throws {
        let image = try ImageDecoder().decode(contentsOf: VisionFixtures.path("edge/rgb.jpg"))
        let pipeline = try ImagePipeline.imagenetTraining(size: 16)
        func run(_ seed: UInt64) throws -> [ImageTensorData] {
            var g = TestGenerator(seed: seed)
            return try (0..<5).map { _ in try pipeline(image, using: &g) }
        }
        XCTAssertEqual(try run(3), try run(3))
        XCTAssertNotEqual(try run(3), try run(4))
        XCTAssertEqual(try run(3)[0].shape, [3, 16, 16])
    }

    func testBadFileThroughThePipelineNamesIt() throws {
        let pipeline = try ImagePipeline.clipEvaluation()
        var generator = TestGenerator(seed: 0)
        let path = VisionFixtures.path("edge/truncated.jpg")
        XCTAssertThrowsError(try pipeline(contentsOf: path, using: &generator)) { error in
            XCTAssertEqual((error as? ImageError)?.source, path)
        }
    }
}
