import Foundation
import XCTest
@testable import VLP

/// The folder of hand-made data fixtures, found from this file's path.
let dataFixtures: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/data").path

extension XCTestCase {
    /// A fresh temporary folder removed after the test.
    func makeDataTestFolder() throws -> String {
        let path = NSTemporaryDirectory() + "vlp-data-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }
}

/// A binary PPM — a real image container that needs no codec, for format tests.
func dataTestPPM(_ image: RGBImage) -> Data {
    Data("P6\n\(image.width) \(image.height)\n255\n".utf8) + Data(image.pixels)
}

/// A small image whose pixels depend on `seed`, so different samples have different bytes.
func dataTestImage(seed: Int, width: Int = 3, height: Int = 2) -> RGBImage {
    RGBImage(width: width, height: height,
             pixels: (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: $0 * 31 + seed * 7) })
}

/// Samples with every kind of text the corpus formats carry.
func dataTestSamples(count: Int) -> [Sample] {
    (0..<count).map { i in
        Sample(id: "s\(i)", image: .encoded(dataTestPPM(dataTestImage(seed: i))), texts: [
            SampleText("红色的圆形在蓝色方形的左边 \(i)", kind: .title, language: "zh"),
            SampleText("a red circle left of a blue square \(i)", kind: .title, language: "en"),
            SampleText("红色圆形 \(i)", kind: .query, language: "zh", role: .paraphrase),
            SampleText("a blue circle \(i)", kind: .content, language: "en", role: .hardNegative(.attribute)),
        ], label: i % 3 == 0 ? nil : i % 2)
    }
}

/// What a reader gives back, with images as bytes so samples compare across formats.
func dataTestMaterialized(_ samples: [Sample]) throws -> [Sample] {
    try samples.map { sample in
        var copy = sample
        if sample.image != nil { copy.image = .encoded(try sample.imageBytes(encode: dataTestPPM)) }
        return copy
    }
}
