import XCTest
@testable import VLP

final class NormalizationTests: TorchTestCase {
    /// Every 8-bit value of every channel, bit for bit as numpy float32 computes
    /// `(p / 255 - mean) / std` (what torchvision's ToTensor + Normalize do).
    func testPresetsMatchFloat32ReferenceBitForBit() throws {
        let manifest = try VisionFixtures.checkedManifest()
        let all = RGBImage(width: 256, height: 1, pixels: (0..<256).flatMap { [UInt8($0), UInt8($0), UInt8($0)] })
        for (name, preset) in [("clip", Normalization.clip), ("imagenet", Normalization.imagenet)] {
            let bits = try XCTUnwrap(manifest.normalizationBits[name])
            let data = preset.tensorData(from: all)
            XCTAssertEqual(data.shape, [3, 1, 256])
            for c in 0..<3 {
                XCTAssertEqual(data.values[c * 256..<(c + 1) * 256].map(\.bitPattern), bits[c], "\(name) channel \(c)")
            }
        }
        XCTAssertEqual(Normalization.clip.mean, [0.48145466, 0.4578275, 0.40821073])
        XCTAssertEqual(Normalization.clip.std, [0.26862954, 0.26130258, 0.27577711])
    }

    func testLayoutIsCHW() throws {
        let image = RGBImage(width: 2, height: 1, pixels: [255, 0, 51, 0, 255, 102])
        let data = Normalization.unitRange.tensorData(from: image)
        XCTAssertEqual(data.values, [1, 0, 0, 1, 0.2, 0.4])
        XCTAssertEqual([data.channels, data.height, data.width], [3, 1, 2])
        XCTAssertThrowsError(try Normalization(mean: [0, 0], std: [1, 1, 1]))
        XCTAssertThrowsError(try Normalization(mean: [0, 0, 0], std: [1, 0, 1]))
    }
}
