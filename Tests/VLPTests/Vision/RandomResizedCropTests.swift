import XCTest
@testable import VLP

final class RandomResizedCropTests: TorchTestCase {
    func testBoxesRespectScaleAndRatioBounds() throws {
        let crop = try RandomResizedCrop(size: 224)   // scale 0.08…1, ratio 3/4…4/3
        var generator = TestGenerator(seed: 42)
        for (w, h) in [(640, 427), (427, 640), (500, 500), (1411, 300)] {
            for _ in 0..<500 {
                let box = crop.region(imageWidth: w, imageHeight: h, using: &generator)
                XCTAssertTrue(box.isInside(width: w, height: h), "\(box) in \(w)×\(h)")
                let area = Double(box.width * box.height) / Double(w * h)
                let ratio = Double(box.width) / Double(box.height)
                // Rounding w and h to integers moves area and ratio by at most about one pixel.
                let slackW = 1 / Double(box.width), slackH = 1 / Double(box.height)
                XCTAssertGreaterThanOrEqual(area, 0.08 * (1 - slackW) * (1 - slackH) - 1e-9, "\(box)")
                XCTAssertLessThanOrEqual(area, 1.0)
                XCTAssertGreaterThanOrEqual(ratio, 0.75 * (1 - slackW - slackH), "\(box)")
                XCTAssertLessThanOrEqual(ratio, (4.0 / 3.0) * (1 + slackW + slackH), "\(box)")
            }
        }
    }

    func testSameSeedSameBoxesDifferentSeedDifferentBoxes() throws {
        let crop = try RandomResizedCrop(size: 64, scale: 0.2...0.9)
        func boxes(_ seed: UInt64) -> [ImageRegion] {
            var generator = TestGenerator(seed: seed)
            return (0..<50).map { _ in crop.region(imageWidth: 300, imageHeight: 200, using: &generator) }
        }
        XCTAssertEqual(boxes(11), boxes(11))
        XCTAssertNotEqual(boxes(11), boxes(12))
        XCTAssertGreaterThan(Set(boxes(11)).count, 40)
    }

    /// Ten failed tries fall back to a central crop clamped to the ratio range (torchvision).
    func testFallbackIsCentralCropAtTheNearestRatio() throws {
        var generator = TestGenerator(seed: 1)
        // Ratio 2 with the whole area never fits a square image: w = √2·side > side.
        let wide = try RandomResizedCrop(size: 8, scale: 1...1, ratio: 2...2)
        XCTAssertEqual(wide.region(imageWidth: 100, imageHeight: 100, using: &generator),
                       ImageRegion(x: 0, y: 25, width: 100, height: 50))
        let tall = try RandomResizedCrop(size: 8, scale: 1...1, ratio: 0.5...0.5)
        XCTAssertEqual(tall.region(imageWidth: 100, imageHeight: 100, using: &generator),
                       ImageRegion(x: 25, y: 0, width: 50, height: 100))
        // Ratio range holding the image's own ratio, whole area: the whole image, by a try or by
        // the fallback's third branch.
        let fits = try RandomResizedCrop(size: 8, scale: 1...1, ratio: 0.5...2)
        XCTAssertEqual(fits.region(imageWidth: 3, imageHeight: 3, using: &generator),
                       ImageRegion(x: 0, y: 0, width: 3, height: 3))
    }

    func testOutputSizeAndInvalidSettings() throws {
        let image = try ImageDecoder().decode(contentsOf: VisionFixtures.path("edge/rgb.jpg"))
        var generator = TestGenerator(seed: 9)
        let out = try RandomResizedCrop(width: 20, height: 10).apply(to: image, using: &generator)
        XCTAssertEqual([out.width, out.height], [20, 10])
        XCTAssertThrowsError(try RandomResizedCrop(size: 8, scale: 0...1))
        XCTAssertThrowsError(try RandomResizedCrop(size: 8, scale: 0.5...1.5))
        XCTAssertThrowsError(try RandomResizedCrop(size: 0))
    }
}
