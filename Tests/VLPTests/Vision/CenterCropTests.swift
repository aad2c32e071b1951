import XCTest
@testable import VLP

final class CenterCropTests: TorchTestCase {
    /// torchvision: `int(round((h - ch) / 2))` with Python's half-to-even rounding.
    func testOffsetsRoundHalfToEven() throws {
        let crop = try CenterCrop(width: 2, height: 2)
        XCTAssertEqual(crop.region(imageWidth: 3, imageHeight: 5), ImageRegion(x: 0, y: 2, width: 2, height: 2))  // 0.5→0, 1.5→2
        XCTAssertEqual(crop.region(imageWidth: 7, imageHeight: 4), ImageRegion(x: 2, y: 1, width: 2, height: 2))  // 2.5→2
        XCTAssertEqual(try CenterCrop(size: 224).region(imageWidth: 335, imageHeight: 224),
                       ImageRegion(x: 56, y: 0, width: 224, height: 224))                                          // 55.5→56
    }

    func testCropPixels() throws {
        let image = RGBImage(width: 4, height: 3, pixels: (0..<36).map { UInt8($0) })
        var generator = TestGenerator(seed: 1)
        let out = try CenterCrop(width: 2, height: 1).apply(to: image, using: &generator)
        XCTAssertEqual(out.pixels, [15, 16, 17, 18, 19, 20])   // row 1, columns 1 and 2
    }

    /// Larger than the image: black padding, `(crop - image) / 2` on the leading side.
    func testCropLargerThanImagePadsWithBlack() throws {
        let image = RGBImage(width: 2, height: 1, fill: (9, 9, 9))
        var generator = TestGenerator(seed: 1)
        let out = try CenterCrop(width: 5, height: 2).apply(to: image, using: &generator)
        XCTAssertEqual([out.width, out.height], [5, 2])
        let row0 = Array(out.pixels[0..<15]), row1 = Array(out.pixels[15..<30])
        XCTAssertEqual(row0, [0, 0, 0, 9, 9, 9, 9, 9, 9, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(row1, [UInt8](repeating: 0, count: 15))
    }

    func testInvalidSizeThrows() {
        XCTAssertThrowsError(try CenterCrop(width: 0, height: 3))
    }
}
