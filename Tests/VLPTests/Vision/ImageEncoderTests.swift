import XCTest
@testable import VLP

final class ImageEncoderTests: TorchTestCase {
    func testPNGRoundTripIsExact() throws {
        let image = try ImageDecoder().decode(contentsOf: VisionFixtures.path("edge/rgb.jpg"))
        for level in [0, 6, 9] {
            let png = try ImageEncoder.png(image, compressionLevel: level)
            XCTAssertEqual(ImageFormat.sniff(png), .png)
            XCTAssertEqual(try ImageDecoder().decode(png), image, "level \(level)")
        }
        XCTAssertThrowsError(try ImageEncoder.png(image, compressionLevel: 10))
    }

    func testJPEGRoundTripIsCloseAndQualityMatters() throws {
        let image = try ImageDecoder().decode(contentsOf: try VisionFixtures.photoPath("chelsea.png"))
        let high = try ImageEncoder.jpeg(image, quality: 95, subsampling: .none)
        let low = try ImageEncoder.jpeg(image, quality: 20)
        XCTAssertEqual(ImageFormat.sniff(high), .jpeg)
        XCTAssertLessThan(low.count, high.count)
        func meanError(_ bytes: [UInt8]) throws -> Double {
            let back = try ImageDecoder().decode(bytes)
            XCTAssertEqual([back.width, back.height], [image.width, image.height])
            return zip(back.pixels, image.pixels).map { abs(Double($0) - Double($1)) }.reduce(0, +) / Double(image.pixels.count)
        }
        let highError = try meanError(high), lowError = try meanError(low)
        XCTAssertLessThan(highError, 2.0)
        XCTAssertLessThan(highError, lowError)
        XCTAssertThrowsError(try ImageEncoder.jpeg(image, quality: 0))
    }
}
