import Foundation

/// Where a model looks for an entity: an image with a grid of patch weights (a ViT's attention
/// from the entity's tokens to its patches, say), drawn as a colormap over the image, next to the
/// caption with the entity phrase marked. Weights are min–max normalised, so only their order and
/// ratios matter; equal weights everywhere draw the coldest colour.
public struct AttentionHeatmap: Sendable {
    public let image: RGBImage
    public let weights: [Float]
    public let gridHeight: Int
    public let gridWidth: Int
    public let caption: String
    public let entity: String

    /// How opaque the colormap is over the image (0 = image only, 1 = colormap only).
    public var opacity: Double = 0.5

    /// `weights` holds `gridHeight * gridWidth` patch weights, row-major, top-left first.
    public init(image: RGBImage, weights: [Float], gridHeight: Int, gridWidth: Int,
                caption: String, entity: String) throws {
        guard image.width > 0, image.height > 0, image.pixels.count == image.width * image.height * 3 else {
            throw ReportError.emptyImage(detail: "\(image.width)×\(image.height) with \(image.pixels.count) bytes")
        }
        guard gridHeight > 0, gridWidth > 0, weights.count == gridHeight * gridWidth else {
            throw ReportError.weightCount(expected: max(gridHeight, 0) * max(gridWidth, 0), got: weights.count,
                                          gridHeight: gridHeight, gridWidth: gridWidth)
        }
        if let index = weights.firstIndex(where: { !$0.isFinite }) {
            throw ReportError.nonFiniteWeight(index: index, value: weights[index])
        }
        self.image = image
        self.weights = weights
        self.gridHeight = gridHeight
        self.gridWidth = gridWidth
        self.caption = caption
        self.entity = entity
    }

    /// The image enlarged `scale` times (nearest neighbour) with the weights drawn over it: each
    /// weight sits at its patch's centre and is bilinearly interpolated in between, mapped through
    /// the Turbo colormap and blended at `opacity`. PNG bytes.
    public func overlayPNG(scale: Int = 6) throws -> [UInt8] {
        try png(overlay(scale: scale))
    }

    /// The overlay as pixels (what `overlayPNG` encodes).
    public func overlay(scale: Int = 6) throws -> RGBImage {
        let scale = try checked(scale)
        let width = image.width * scale, height = image.height * scale
        let normalised = normalisedWeights()
        // Bilinear weights per output column and row, computed once.
        func axis(_ size: Int, _ cells: Int) -> [(Int, Int, Double)] {
            (0..<size).map { i in
                let u = (Double(i) + 0.5) / Double(size) * Double(cells) - 0.5
                let clamped = min(max(u, 0), Double(cells - 1))
                let i0 = Int(clamped.rounded(.down)), i1 = min(i0 + 1, cells - 1)
                return (i0, i1, clamped - Double(i0))
            }
        }
        let columns = axis(width, gridWidth), rows = axis(height, gridHeight)
        let alpha = min(max(opacity, 0), 1)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let (r0, r1, fy) = rows[y]
            let sy = y / scale
            for x in 0..<width {
                let (c0, c1, fx) = columns[x]
                let top = normalised[r0 * gridWidth + c0] * (1 - fx) + normalised[r0 * gridWidth + c1] * fx
                let bottom = normalised[r1 * gridWidth + c0] * (1 - fx) + normalised[r1 * gridWidth + c1] * fx
                let heat = Colormap.turbo(top * (1 - fy) + bottom * fy)
                let source = (sy * image.width + x / scale) * 3
                let target = (y * width + x) * 3
                pixels[target] = blend(image.pixels[source], heat.r, alpha)
                pixels[target + 1] = blend(image.pixels[source + 1], heat.g, alpha)
                pixels[target + 2] = blend(image.pixels[source + 2], heat.b, alpha)
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The image enlarged `scale` times, nearest neighbour (shown beside the overlay).
    public func enlargedImage(scale: Int = 6) throws -> RGBImage {
        let scale = try checked(scale)
        if scale == 1 { return image }
        let width = image.width * scale, height = image.height * scale
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let sourceRow = (y / scale) * image.width
            for x in 0..<width {
                let source = (sourceRow + x / scale) * 3, target = (y * width + x) * 3
                pixels[target] = image.pixels[source]
                pixels[target + 1] = image.pixels[source + 1]
                pixels[target + 2] = image.pixels[source + 2]
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The scale `html()` uses: the smallest that makes the longer side at least 192 px.
    public var displayScale: Int {
        max(1, Int((192.0 / Double(max(image.width, image.height))).rounded(.up)))
    }

    /// A `<figure>`: the image and the overlay side by side as inline PNGs, a colour bar, and the
    /// caption with every occurrence of the entity phrase in `<mark>`.
    public func html() throws -> String {
        let scale = displayScale
        let original = try png(enlargedImage(scale: scale))
        let overlaid = try png(overlay(scale: scale))
        let width = image.width * scale, height = image.height * scale
        let alt = HTMLEscape.text(entity.isEmpty ? caption : entity)
        var out = "<figure class=\"heatmap\">\n<div class=\"heatmap-images\">\n"
        out += "<div class=\"heatmap-panel\"><img src=\"data:image/png;base64,\(Data(original).base64EncodedString())\" width=\"\(width)\" height=\"\(height)\" alt=\"image\"><span>image</span></div>\n"
        out += "<div class=\"heatmap-panel\"><img src=\"data:image/png;base64,\(Data(overlaid).base64EncodedString())\" width=\"\(width)\" height=\"\(height)\" alt=\"attention for \(alt)\"><span>attention (\(gridHeight)×\(gridWidth) patches)</span></div>\n"
        out += "</div>\n"
        out += "<div class=\"colorbar\"><span>low</span><i style=\"background: \(Colormap.cssGradient())\"></i><span>high</span></div>\n"
        out += "<figcaption>\(highlightedCaption())"
        if !entity.isEmpty && !caption.contains(entity) {
            out += " <span class=\"entity\">(entity: <mark>\(HTMLEscape.text(entity))</mark>)</span>"
        }
        out += "</figcaption>\n</figure>"
        return out
    }

    // MARK: - Helpers

    /// The caption, escaped, with each occurrence of `entity` wrapped in `<mark>`.
    func highlightedCaption() -> String {
        guard !entity.isEmpty else { return HTMLEscape.text(caption) }
        let pieces = caption.components(separatedBy: entity)
        return pieces.map(HTMLEscape.text).joined(separator: "<mark>\(HTMLEscape.text(entity))</mark>")
    }

    /// Weights mapped to 0…1 by min–max; all equal → all 0.
    func normalisedWeights() -> [Double] {
        let values = weights.map(Double.init)
        let low = values.min() ?? 0, high = values.max() ?? 0
        guard high > low else { return values.map { _ in 0 } }
        return values.map { ($0 - low) / (high - low) }
    }

    private func checked(_ scale: Int) throws -> Int {
        guard scale >= 1, scale <= 64 else {
            throw ReportError.invalidArgument(detail: "heat map scale \(scale), expected 1…64")
        }
        return scale
    }

    private func png(_ image: RGBImage) throws -> [UInt8] {
        do { return try ImageEncoder.png(image) } catch { throw ReportError.encodingFailed(detail: error.description) }
    }
}

private func blend(_ base: UInt8, _ top: UInt8, _ alpha: Double) -> UInt8 {
    UInt8(min(max(Double(base) * (1 - alpha) + Double(top) * alpha, 0), 255).rounded())
}
