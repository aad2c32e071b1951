import XCTest
@testable import VLP

final class ExifOrientationTests: TorchTestCase {
    /// Orientation 6: stored 32×24, shown 24×32, pixels as Pillow's `exif_transpose` gives them.
    func testOrientation6RotatesLikePillow() throws {
        let upright = try ImageDecoder().decode(contentsOf: VisionFixtures.path("edge/orientation6.jpg"))
        XCTAssertEqual([upright.width, upright.height], [24, 32])
        let expected = RGBImage(width: 24, height: 32, pixels: try VisionFixtures.bytes("expected/orientation6.jpg.rgb"))
        let diff = upright.maxAbsDifference(expected)
        reportParity("exif orientation 6", maxDiff: diff)
        XCTAssertLessThanOrEqual(diff, 1)

        let stored = try ImageDecoder(appliesExifOrientation: false).decode(contentsOf: VisionFixtures.path("edge/orientation6.jpg"))
        XCTAssertEqual([stored.width, stored.height], [32, 24])
        // Rotating 90° clockwise: the stored bottom-left pixel is shown top-left.
        XCTAssertEqual(Array(upright.pixels[0..<3]), Array(stored.pixels[(23 * 32) * 3..<(23 * 32) * 3 + 3]))
        XCTAssertEqual(ExifOrientation.right.applied(to: stored), upright)
    }

    /// A 3×2 image with distinct pixels, checked against each orientation's definition.
    func testEveryOrientationMovesPixelsAsDefined() {
        let w = 3, h = 2
        let image = RGBImage(width: w, height: h, pixels: (0..<(w * h * 3)).map { UInt8($0) })
        func at(_ im: RGBImage, _ x: Int, _ y: Int) -> [UInt8] { Array(im.pixels[(y * im.width + x) * 3..<(y * im.width + x) * 3 + 3]) }
        // Source pixel shown at (x', y') of the upright image.
        let rules: [ExifOrientation: (Int, Int) -> (Int, Int)] = [
            .up: { ($0, $1) }, .upMirrored: { (w - 1 - $0, $1) }, .down: { (w - 1 - $0, h - 1 - $1) },
            .downMirrored: { ($0, h - 1 - $1) }, .leftMirrored: { ($1, $0) }, .right: { ($1, h - 1 - $0) },
            .rightMirrored: { (w - 1 - $1, h - 1 - $0) }, .left: { (w - 1 - $1, $0) },
        ]
        for orientation in ExifOrientation.allCases {
            let out = orientation.applied(to: image)
            XCTAssertEqual([out.width, out.height], orientation.swapsDimensions ? [h, w] : [w, h], "\(orientation)")
            for y in 0..<out.height {
                for x in 0..<out.width {
                    let (sx, sy) = rules[orientation]!(x, y)
                    XCTAssertEqual(at(out, x, y), at(image, sx, sy), "\(orientation) at \(x),\(y)")
                }
            }
        }
        // Group structure: right then left is the identity; right twice is down.
        XCTAssertEqual(ExifOrientation.left.applied(to: ExifOrientation.right.applied(to: image)), image)
        XCTAssertEqual(ExifOrientation.right.applied(to: ExifOrientation.right.applied(to: image)),
                       ExifOrientation.down.applied(to: image))
    }
}
