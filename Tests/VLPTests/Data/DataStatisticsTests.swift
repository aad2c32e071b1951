import Foundation
import XCTest
@testable import VLP

final class DataStatisticsTests: TorchTestCase {
    /// Distinct images: a file counts once per path, embedded bytes and pixels once per content;
    /// sizes and formats come from the headers (files: their first bytes only).
    func testDistinctImagesAndHeaderSizes() throws {
        let folder = try makeDataTestFolder()
        let path = folder + "/a.ppm"
        let image = dataTestImage(seed: 1, width: 5, height: 4)
        try dataTestPPM(image).write(to: URL(fileURLWithPath: path))
        let other = dataTestPPM(dataTestImage(seed: 2))
        let payloads: [ImagePayload] = [.file(path), .file(path), .encoded(other), .encoded(other),
                                        .encoded(dataTestPPM(image)), .pixels(image), .pixels(image),
                                        .file(folder + "/missing.png")]
        let samples = payloads.enumerated().map { Sample(id: "s\($0.offset)", image: $0.element, texts: [SampleText("t", kind: .title)]) }
        let stats = try DataStatistics.gather([DatasetFormat.Part(name: "p", reader: MemorySampleReader(samples))])
        XCTAssertEqual(stats.images, 8)
        XCTAssertEqual(stats.distinctImages, 5)
        XCTAssertEqual(stats.imageFormats, ["ppm": 5, "pixels": 2, "unknown": 1])
        XCTAssertEqual(stats.imagesOfUnknownSize, 1)
        XCTAssertEqual(stats.imageWidth.max, 5)
        XCTAssertEqual(stats.imageHeight.min, 2)
    }
}
