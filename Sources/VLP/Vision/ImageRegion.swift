/// A rectangle of pixels: `x`, `y` of its top-left corner and its size. It may reach outside
/// the image (a centre crop larger than the image does); pixels outside read as black.
public struct ImageRegion: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var x: Int, y: Int, width: Int, height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    /// Whether the region lies wholly inside an image of the given size.
    public func isInside(width imageWidth: Int, height imageHeight: Int) -> Bool {
        x >= 0 && y >= 0 && width > 0 && height > 0 && x + width <= imageWidth && y + height <= imageHeight
    }

    public var description: String { "(\(x), \(y)) \(width)×\(height)" }
}

extension RGBImage {
    /// The pixels of `region`, black (0, 0, 0) where it reaches outside the image — what
    /// torchvision's `F.crop` gives after its zero padding.
    public func cropped(to region: ImageRegion) throws(ImageError) -> RGBImage {
        guard region.width > 0, region.height > 0 else {
            throw .invalidArgument(detail: "crop of \(region.width)×\(region.height) pixels")
        }
        if region.x == 0, region.y == 0, region.width == width, region.height == height { return self }
        let outW = region.width, outH = region.height
        // Columns and rows of the region that hold image pixels.
        let x0 = max(0, region.x), x1 = min(width, region.x + outW)
        let y0 = max(0, region.y), y1 = min(height, region.y + outH)
        let pixels = [UInt8](unsafeUninitializedCapacity: outW * outH * 3) { out, count in
            let o = out.baseAddress!
            let inside = x1 > x0 && y1 > y0
            if !inside || x0 != region.x || x1 != region.x + outW || y0 != region.y || y1 != region.y + outH {
                o.initialize(repeating: 0, count: outW * outH * 3)
            }
            if inside {
                self.pixels.withUnsafeBufferPointer { src in
                    let rowBytes = (x1 - x0) * 3
                    for y in y0..<y1 {
                        let from = src.baseAddress! + (y * width + x0) * 3
                        let to = o + ((y - region.y) * outW + (x0 - region.x)) * 3
                        to.update(from: from, count: rowBytes)
                    }
                }
            }
            count = outW * outH * 3
        }
        return RGBImage(width: outW, height: outH, pixels: pixels)
    }
}
