import XCTest
@testable import VLP

final class ReportsAttentionHeatmapTests: TorchTestCase {
    /// Where on the colormap (0 cold … 1 hot) an overlay pixel over a uniform `base` grey lies:
    /// the nearest of 1,001 colormap samples blended at 50% over that grey.
    private static let samples: [(t: Double, rgb: [Double])] = (0...1000).map { k in
        let c = Colormap.turbo(Double(k) / 1000)
        return (Double(k) / 1000, [c.r, c.g, c.b].map(Double.init))
    }

    private func heat(_ image: RGBImage, x: Int, y: Int, base: Double = 128) -> Double {
        let i = (y * image.width + x) * 3
        let pixel = (0..<3).map { Double(image.pixels[i + $0]) }
        var best = (t: 0.0, distance: Double.infinity)
        for sample in Self.samples {
            var distance = 0.0
            for c in 0..<3 {
                let d = pixel[c] - (base * 0.5 + sample.rgb[c] * 0.5)
                distance += d * d
            }
            if distance < best.distance { best = (sample.t, distance) }
        }
        return best.t
    }

    func testHottestPatchHasTheHottestColour() throws {
        let image = RGBImage(width: 32, height: 32, fill: (128, 128, 128))
        var weights: [Float] = [0.20, 0.10, 0.30, 0.15,
                                0.25, 0.05, 0.95, 0.40,
                                0.12, 0.33, 0.22, 0.18,
                                0.11, 0.01, 0.14, 0.16]
        let heatmap = try AttentionHeatmap(image: image, weights: weights, gridHeight: 4, gridWidth: 4,
                                           caption: "a cat", entity: "cat")
        let png = try heatmap.overlayPNG(scale: 6)
        let decoded = try ImageDecoder().decode(png)
        XCTAssertEqual([decoded.width, decoded.height], [192, 192])
        // Patch centres (48 px patches) show each weight's place on the colormap, in weight order.
        let centres = weights.indices.map { heat(decoded, x: ($0 % 4) * 48 + 24, y: ($0 / 4) * 48 + 24) }
        let hottest = weights.indices.max { weights[$0] < weights[$1] }!
        let coldest = weights.indices.min { weights[$0] < weights[$1] }!
        XCTAssertEqual([hottest, coldest], [6, 13])
        XCTAssertEqual(centres[hottest], 1, accuracy: 0.02)
        XCTAssertEqual(centres[coldest], 0, accuracy: 0.02)
        XCTAssertEqual(weights.indices.sorted { centres[$0] < centres[$1] }, weights.indices.sorted { weights[$0] < weights[$1] })
        for index in weights.indices {
            let expected = Double((weights[index] - 0.01) / (0.95 - 0.01))
            XCTAssertEqual(centres[index], expected, accuracy: 0.03, "patch \(index)")
        }
        // Hot is red: at the hottest centre red dominates.
        let i = ((6 / 4) * 48 + 24) * 192 * 3 + ((6 % 4) * 48 + 24) * 3
        XCTAssertGreaterThan(decoded.pixels[i], decoded.pixels[i + 2] + 40)
        XCTAssertGreaterThan(decoded.pixels[i], decoded.pixels[i + 1] + 40)
        // No pixel anywhere is hotter than the hottest patch's centre, and those as hot lie in that patch.
        for y in stride(from: 0, to: 192, by: 6) {
            for x in stride(from: 0, to: 192, by: 6) where heat(decoded, x: x, y: y) > 0.97 {
                XCTAssertEqual(y / 48 * 4 + x / 48, hottest, "(\(x), \(y))")
            }
        }

        // Scaling weights changes nothing (min–max normalised).
        weights = weights.map { $0 * 10 + 3 }
        let scaled = try AttentionHeatmap(image: image, weights: weights, gridHeight: 4, gridWidth: 4, caption: "", entity: "")
        XCTAssertEqual(try scaled.overlayPNG(scale: 6), png)
    }

    func testOverlayKeepsTheImageUnderneath() throws {
        let black = try AttentionHeatmap(image: RGBImage(width: 8, height: 8, fill: (0, 0, 0)), weights: [1, 1, 1, 1],
                                         gridHeight: 2, gridWidth: 2, caption: "", entity: "").overlay(scale: 2)
        let white = try AttentionHeatmap(image: RGBImage(width: 8, height: 8, fill: (255, 255, 255)), weights: [1, 1, 1, 1],
                                         gridHeight: 2, gridWidth: 2, caption: "", entity: "").overlay(scale: 2)
        XCTAssertEqual([black.width, black.height], [16, 16])
        // Half the image shows through: white and black underneath differ by about half of 255.
        XCTAssertEqual(Double(white.pixels[0]) - Double(black.pixels[0]), 127.5, accuracy: 1)
    }

    func testEnlargedImageIsNearestNeighbour() throws {
        let image = RGBImage(width: 2, height: 1, pixels: [10, 20, 30, 40, 50, 60])
        let heatmap = try AttentionHeatmap(image: image, weights: [1], gridHeight: 1, gridWidth: 1, caption: "", entity: "")
        let big = try heatmap.enlargedImage(scale: 3)
        XCTAssertEqual([big.width, big.height], [6, 3])
        XCTAssertEqual(Array(big.pixels[0..<18]), [10, 20, 30, 10, 20, 30, 10, 20, 30, 40, 50, 60, 40, 50, 60, 40, 50, 60])
    }

    func testWrongWeightCountThrows() {
        let image = RGBImage(width: 16, height: 16, fill: (0, 0, 0))
        XCTAssertThrowsError(try AttentionHeatmap(image: image, weights: [Float](repeating: 1, count: 15),
                                                  gridHeight: 4, gridWidth: 4, caption: "", entity: "")) { error in
            XCTAssertEqual(error as? ReportError, .weightCount(expected: 16, got: 15, gridHeight: 4, gridWidth: 4))
            XCTAssertTrue("\(error)".contains("15 weights for a 4×4 patch grid, expected 16"), "\(error)")
        }
        XCTAssertThrowsError(try AttentionHeatmap(image: image, weights: [], gridHeight: 0, gridWidth: 4, caption: "", entity: ""))
    }

    func testEmptyImageAndBadValuesThrow() throws {
        var image = RGBImage(width: 4, height: 4, fill: (0, 0, 0))
        image.pixels = []
        XCTAssertThrowsError(try AttentionHeatmap(image: image, weights: [1], gridHeight: 1, gridWidth: 1, caption: "", entity: "")) { error in
            guard case .emptyImage = error as? ReportError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("empty image"))
        }
        let fine = RGBImage(width: 4, height: 4, fill: (0, 0, 0))
        XCTAssertThrowsError(try AttentionHeatmap(image: fine, weights: [1, .nan, 0, 0], gridHeight: 2, gridWidth: 2, caption: "", entity: "")) { error in
            guard case .nonFiniteWeight(index: 1, _) = error as? ReportError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("weight 1 is nan"), "\(error)")
        }
        let heatmap = try AttentionHeatmap(image: fine, weights: [1], gridHeight: 1, gridWidth: 1, caption: "", entity: "")
        XCTAssertThrowsError(try heatmap.overlayPNG(scale: 0))
    }

    func testHTMLShowsBothImagesAndMarksTheEntity() throws {
        let heatmap = try AttentionHeatmap(image: ReportFixtures.shapesImage(), weights: (0..<16).map { Float($0) },
                                           gridHeight: 4, gridWidth: 4,
                                           caption: "一个<红色>的方块 & 一个<红色>的圆", entity: "<红色>")
        let html = try heatmap.html()
        XCTAssertTrue(html.hasPrefix("<figure"))
        XCTAssertEqual(html.components(separatedBy: "<mark>&lt;红色&gt;</mark>").count - 1, 2)
        XCTAssertTrue(html.contains("&amp;"))
        XCTAssertFalse(html.contains("<红色>"))
        let sources = ReportFixtures.imageSources(in: html)
        XCTAssertEqual(sources.count, 2)
        for source in sources {
            XCTAssertTrue(source.hasPrefix("data:image/png;base64,"))
            let bytes = try XCTUnwrap(Data(base64Encoded: String(source.dropFirst("data:image/png;base64,".count))))
            let image = try ImageDecoder().decode([UInt8](bytes))
            XCTAssertEqual([image.width, image.height], [64 * heatmap.displayScale, 64 * heatmap.displayScale])
            XCTAssertGreaterThanOrEqual(image.width, 192)
        }
        // An entity missing from the caption is still shown.
        let other = try AttentionHeatmap(image: ReportFixtures.shapesImage(), weights: [1], gridHeight: 1, gridWidth: 1,
                                         caption: "a square", entity: "disc")
        XCTAssertTrue(try other.html().contains("<mark>disc</mark>"))
    }
}
