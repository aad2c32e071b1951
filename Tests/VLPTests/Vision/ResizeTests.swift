import XCTest
@testable import VLP

final class ResizeTests: TorchTestCase {
    /// Each case of the manifest (downscale, upscale, mixed, bilinear and bicubic, CLIP's
    /// short-side 224 + centre crop 224, a resized crop) against Pillow's output.
    func testResizeMatchesPillowOnRealPhotos() throws {
        let manifest = try VisionFixtures.checkedManifest()
        XCTAssertEqual(manifest.resizeCases.count, 17)
        var photos: [String: RGBImage] = [:]
        var generator = TestGenerator(seed: 0)
        for case_ in manifest.resizeCases {
            if photos[case_.photo] == nil {
                photos[case_.photo] = try ImageDecoder().decode(contentsOf: try VisionFixtures.photoPath(case_.photo))
            }
            var image = photos[case_.photo]!
            for op in case_.ops {
                let filter = ResampleFilter(rawValue: op.filter ?? "bilinear")!
                switch op.op {
                case "crop":
                    let b = op.box!
                    image = try image.cropped(to: ImageRegion(x: b[0], y: b[1], width: b[2], height: b[3]))
                case "resizeShortSide":
                    image = try Resize(.shortSide(op.size!), filter: filter).apply(to: image, using: &generator)
                case "resize":
                    image = try Resize(.exact(width: op.width!, height: op.height!), filter: filter).apply(to: image, using: &generator)
                case "centerCrop":
                    image = try CenterCrop(width: op.width!, height: op.height!).apply(to: image, using: &generator)
                case "resizedCrop":
                    let b = op.box!
                    image = try image.resized(region: ImageRegion(x: b[0], y: b[1], width: b[2], height: b[3]),
                                              width: op.width!, height: op.height!, filter: filter)
                default:
                    XCTFail("unknown op \(op.op)")
                }
            }
            XCTAssertEqual([image.width, image.height], [case_.width, case_.height], case_.name)
            guard image.width == case_.width, image.height == case_.height else { continue }
            let diff = image.strided(case_.stride).maxAbsDifference(try VisionFixtures.sample(case_.sample))
            let meanDiff = zip(image.channelMeans(), case_.mean).map { abs($0 - $1) }.max()!
            let exact = fnv1a64(image.pixels) == case_.fnv1a64
            reportParity("resize \(case_.name)\(exact ? " (bit-exact)" : "")", maxDiff: diff, meanDiff: meanDiff)
            XCTAssertLessThanOrEqual(diff, 2, case_.name)
            XCTAssertLessThan(meanDiff, 0.1, case_.name)
            // The same pixels decode the same (PNG sources are exact), so the same arithmetic
            // must give the same bytes.
            if case_.photo.hasSuffix(".png") { XCTAssertTrue(exact, "\(case_.name): not bit-exact with Pillow") }
        }
    }

    func testShortSideSizeFollowsTorchvision() {
        XCTAssertTrue(RGBImage.size(fitting: 224, width: 640, height: 427) == (335, 224))   // int(224*640/427) = 335
        XCTAssertTrue(RGBImage.size(fitting: 224, width: 300, height: 451) == (224, 336))
        XCTAssertTrue(RGBImage.size(fitting: 224, width: 512, height: 512) == (224, 224))
        XCTAssertTrue(RGBImage.size(fitting: 64, width: 1000, height: 3) == (21333, 64))
    }

    func testConstantImageStaysConstantAndSizeIsExact() throws {
        let image = RGBImage(width: 37, height: 23, fill: (200, 10, 99))
        for filter in ResampleFilter.allCases {
            for (w, h) in [(5, 4), (37, 50), (100, 23), (1, 1), (80, 3)] {
                let out = try image.resized(width: w, height: h, filter: filter)
                XCTAssertEqual([out.width, out.height], [w, h])
                XCTAssertEqual(out, RGBImage(width: w, height: h, fill: (200, 10, 99)), "\(filter) \(w)×\(h)")
            }
        }
    }

    func testSameSizeIsIdentity() throws {
        var generator = TestGenerator(seed: 3)
        let pixels = (0..<(17 * 9 * 3)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let image = RGBImage(width: 17, height: 9, pixels: pixels)
        XCTAssertEqual(try image.resized(width: 17, height: 9, filter: .bicubic), image)
    }

    /// Resizing a region equals cropping then resizing.
    func testRegionResizeEqualsCropThenResize() throws {
        var generator = TestGenerator(seed: 5)
        let pixels = (0..<(60 * 40 * 3)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let image = RGBImage(width: 60, height: 40, pixels: pixels)
        let region = ImageRegion(x: 7, y: 3, width: 31, height: 22)
        for filter in ResampleFilter.allCases {
            XCTAssertEqual(try image.resized(region: region, width: 16, height: 40, filter: filter),
                           try image.cropped(to: region).resized(width: 16, height: 40, filter: filter))
        }
    }

    func testInvalidSizesThrow() {
        let image = RGBImage(width: 4, height: 4, fill: (0, 0, 0))
        XCTAssertThrowsError(try image.resized(width: 0, height: 3))
        XCTAssertThrowsError(try image.resized(shortSide: -1))
        XCTAssertThrowsError(try image.resized(region: ImageRegion(x: 2, y: 0, width: 3, height: 4), width: 2, height: 2))
        XCTAssertThrowsError(try Resize(.exact(width: 3, height: 0)))
    }
}
