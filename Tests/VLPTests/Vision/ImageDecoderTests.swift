import Foundation
import XCTest
@testable import VLP

final class ImageDecoderTests: TorchTestCase {
    let decoder = ImageDecoder()

    /// Real photos decode as Pillow decodes them: PNG exactly, JPEG within 1/255 (both use
    /// libjpeg-turbo's integer IDCT and fancy upsampling; versions differ).
    func testPhotosMatchPillowDecode() throws {
        let manifest = try VisionFixtures.checkedManifest()
        XCTAssertEqual(manifest.photoDecodes.count, 6)
        for case_ in manifest.photoDecodes {
            let image = try decoder.decode(contentsOf: try VisionFixtures.photoPath(case_.photo))
            XCTAssertEqual([image.width, image.height], [case_.width, case_.height], case_.photo)
            let reference = try VisionFixtures.sample(case_.sample)
            let diff = image.strided(case_.stride).maxAbsDifference(reference)
            let meanDiff = zip(image.channelMeans(), case_.mean).map { abs($0 - $1) }.max()!
            reportParity("decode \(case_.photo)", maxDiff: diff, meanDiff: meanDiff)
            if case_.photo.hasSuffix(".png") {
                XCTAssertEqual(fnv1a64(image.pixels), case_.fnv1a64, "\(case_.photo): PNG decode must be exact")
            } else {
                XCTAssertLessThanOrEqual(diff, 1, case_.photo)
                XCTAssertLessThan(meanDiff, 0.05, case_.photo)
            }
        }
    }

    /// DCT-domain downscaling picks the same 1/2, 1/4, 1/8 scales Pillow's `draft` picks and
    /// gives the same pixels; the short side never drops below the target.
    func testDCTScaledDecodeMatchesPillowDraft() throws {
        let manifest = try VisionFixtures.checkedManifest()
        XCTAssertFalse(manifest.scaledDecodes.isEmpty)
        for case_ in manifest.scaledDecodes {
            let path = try VisionFixtures.photoPath(case_.photo)
            let target = try XCTUnwrap(case_.targetShortSide)
            let info = try decoder.probe([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), targetShortSide: target)
            XCTAssertEqual(info.scaleDenominator, case_.scaleDenominator, case_.photo)
            let image = try decoder.decode(contentsOf: path, targetShortSide: target)
            XCTAssertEqual([image.width, image.height], [case_.width, case_.height], case_.photo)
            XCTAssertGreaterThanOrEqual(min(image.width, image.height), target)
            let diff = image.strided(case_.stride).maxAbsDifference(try VisionFixtures.sample(case_.sample))
            reportParity("decode \(case_.photo) at 1/\(case_.scaleDenominator ?? 0)", maxDiff: diff)
            XCTAssertLessThanOrEqual(diff, 1, case_.photo)
        }
    }

    func testScalingNeverGoesBelowTheTarget() throws {
        let path = try VisionFixtures.photoPath("rocket.jpg")   // 640×427
        for (target, expected) in [(427, 1), (215, 1), (214, 2), (108, 2), (107, 4), (55, 4), (54, 8), (1, 8)] {
            let image = try decoder.decode(contentsOf: path, targetShortSide: target)
            XCTAssertGreaterThanOrEqual(min(image.width, image.height), target, "target \(target)")
            XCTAssertEqual(image.width, (640 + expected - 1) / expected, "target \(target)")
        }
        // PNG ignores the hint.
        let png = try decoder.decode(contentsOf: try VisionFixtures.photoPath("chelsea.png"), targetShortSide: 32)
        XCTAssertEqual([png.width, png.height], [451, 300])
    }

    /// Gray, CMYK (Adobe-inverted), progressive JPEGs; RGBA, LA, palette with tRNS, 1-bit,
    /// 16-bit PNGs; lossy and lossless WebP: each as Pillow's `convert("RGB")`.
    func testEdgeCaseImagesMatchPillow() throws {
        let manifest = try VisionFixtures.checkedManifest()
        XCTAssertEqual(manifest.edgeDecodes.count, 15)
        for case_ in manifest.edgeDecodes {
            let image = try decoder.decode(contentsOf: VisionFixtures.path(case_.file))
            let expected = RGBImage(width: case_.width, height: case_.height,
                                    pixels: try VisionFixtures.bytes(case_.expected))
            XCTAssertEqual([image.width, image.height], [case_.width, case_.height], case_.file)
            guard image.width == case_.width, image.height == case_.height else { continue }
            let diff = image.maxAbsDifference(expected)
            reportParity("decode \(case_.file) (\(case_.mode))", maxDiff: diff)
            // Lossy codecs may round differently across library versions by one step.
            let lossy = case_.file.hasSuffix(".jpg") && !case_.file.contains("png_named") || case_.file.hasSuffix("lossy.webp")
            XCTAssertLessThanOrEqual(diff, lossy ? 1 : 0, case_.file)
        }
    }

    func testBadInputsThrowTypedErrorsNamingTheFile() throws {
        let manifest = try VisionFixtures.checkedManifest()
        XCTAssertEqual(manifest.badInputs.count, 7)
        for case_ in manifest.badInputs {
            let path = VisionFixtures.path(case_.file)
            do {
                let image = try decoder.decode(contentsOf: path)
                XCTFail("\(case_.file) decoded to \(image.width)×\(image.height) instead of failing")
            } catch {
                XCTAssertEqual(error.source, path)
                XCTAssertTrue(error.description.contains(path), error.description)
                switch (case_.error, error) {
                case ("truncated", .truncated), ("zeroByte", .zeroByte), ("unknownFormat", .unknownFormat),
                     ("corrupt", .corrupt):
                    break
                default:
                    XCTFail("\(case_.file): expected \(case_.error), got \(error)")
                }
            }
        }
    }

    /// Every prefix of a valid JPEG, PNG and WebP fails cleanly with an error naming it — except
    /// those missing only what follows the pixels (a PNG's IEND chunk, 12 bytes, which Pillow
    /// does not require either).
    func testEveryPrefixOfAnImageFailsCleanly() throws {
        for (name, trailer) in [("edge/rgb.jpg", 0), ("edge/progressive.jpg", 0), ("edge/palette.png", 12),
                                ("edge/lossy.webp", 0), ("edge/lossless_alpha.webp", 0)] {
            let bytes = try VisionFixtures.bytes(name)
            for n in 0..<bytes.count {
                do {
                    _ = try decoder.decode(Array(bytes[0..<n]), source: "\(name)[..<\(n)]")
                    XCTAssertGreaterThanOrEqual(n, bytes.count - trailer, "\(name) cut to \(n) bytes decoded")
                } catch {
                    XCTAssertEqual(error.source, "\(name)[..<\(n)]")
                }
            }
        }
    }

    func testRandomBytesNeverCrash() {
        var generator = TestGenerator(seed: 7)
        for trial in 0..<300 {
            let n = Int.random(in: 0...300, using: &generator)
            var bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Half the trials carry a real signature so the codecs themselves see garbage.
            let signatures: [[UInt8]] = [[0xFF, 0xD8, 0xFF], [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A],
                                         Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8)]
            if trial % 2 == 0 { bytes = signatures[trial / 2 % 3] + bytes }
            XCTAssertThrowsError(try decoder.decode(bytes, source: "random-\(trial)")) { error in
                XCTAssertEqual((error as? ImageError)?.source, "random-\(trial)")
            }
        }
    }

    /// A PNG named .jpg decodes as the PNG it is; random bytes named .png are an unknown format.
    func testFormatComesFromBytesNotExtension() throws {
        let renamed = try decoder.decode(contentsOf: VisionFixtures.path("edge/png_named.jpg"))
        let original = try decoder.decode(contentsOf: VisionFixtures.path("edge/gray.png"))
        XCTAssertEqual(renamed, original)
        XCTAssertEqual(ImageFormat.sniff(try VisionFixtures.bytes("edge/png_named.jpg")), .png)
        XCTAssertEqual(ImageFormat.sniff(try VisionFixtures.bytes("edge/rgb.jpg")), .jpeg)
        XCTAssertEqual(ImageFormat.sniff(try VisionFixtures.bytes("edge/lossy.webp")), .webp)
        XCTAssertNil(ImageFormat.sniff(try VisionFixtures.bytes("edge/random.png")))
    }

    func testMissingFileIsUnreadable() {
        let path = VisionFixtures.path("edge/does-not-exist.jpg")
        XCTAssertThrowsError(try decoder.decode(contentsOf: path)) { error in
            guard case .unreadable(let source, _)? = error as? ImageError else { return XCTFail("\(error)") }
            XCTAssertEqual(source, path)
        }
    }

    func testPixelLimitRefusesLargeImages() throws {
        let limited = ImageDecoder(maxPixels: 32 * 24 - 1)
        XCTAssertThrowsError(try limited.decode(contentsOf: VisionFixtures.path("edge/rgb.jpg"))) { error in
            guard case .tooLarge? = error as? ImageError else { return XCTFail("\(error)") }
        }
        XCTAssertNoThrow(try ImageDecoder(maxPixels: 32 * 24).decode(contentsOf: VisionFixtures.path("edge/rgb.jpg")))
    }

    func testProbeReportsOrientationAndUprightSize() throws {
        let bytes = try VisionFixtures.bytes("edge/orientation6.jpg")
        let info = try decoder.probe(bytes)
        XCTAssertEqual(info.format, .jpeg)
        XCTAssertEqual(info.orientation, .right)
        XCTAssertEqual([info.sourceWidth, info.sourceHeight], [32, 24])
        XCTAssertEqual([info.width, info.height], [24, 32])
        let raw = try ImageDecoder(appliesExifOrientation: false).probe(bytes)
        XCTAssertEqual([raw.width, raw.height], [32, 24])
    }
}
