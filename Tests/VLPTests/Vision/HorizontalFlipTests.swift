import XCTest
@testable import VLP

final class HorizontalFlipTests: TorchTestCase {
    func testFlipMirrorsRows() {
        let image = RGBImage(width: 3, height: 2, pixels: (0..<18).map { UInt8($0) })
        let flipped = image.flippedHorizontally()
        XCTAssertEqual(flipped.pixels, [6, 7, 8, 3, 4, 5, 0, 1, 2, 15, 16, 17, 12, 13, 14, 9, 10, 11])
        XCTAssertEqual(flipped.flippedHorizontally(), image)
    }

    func testProbabilityAndDeterminism() throws {
        let image = RGBImage(width: 2, height: 1, pixels: [1, 2, 3, 4, 5, 6])
        let flipped = image.flippedHorizontally()
        var generator = TestGenerator(seed: 21)
        XCTAssertEqual(try HorizontalFlip(probability: 1).apply(to: image, using: &generator), flipped)
        XCTAssertEqual(try HorizontalFlip(probability: 0).apply(to: image, using: &generator), image)
        let half = try HorizontalFlip()
        func draws(_ seed: UInt64) throws -> [Bool] {
            var g = TestGenerator(seed: seed)
            return try (0..<400).map { _ in try half.apply(to: image, using: &g) == flipped }
        }
        let first = try draws(5)
        XCTAssertEqual(first, try draws(5))
        let count = first.filter { $0 }.count
        XCTAssertTrue((150...250).contains(count), "\(count) flips of 400 at p = 0.5")
        XCTAssertThrowsError(try HorizontalFlip(probability: 1.5))
    }
}
