/// The EXIF orientation tag (0x0112): how the stored pixels must be turned to display upright.
/// Raw values follow the EXIF/TIFF specification, names Apple's `CGImagePropertyOrientation`;
/// `applied(to:)` does what Pillow's `ImageOps.exif_transpose` does.
public enum ExifOrientation: Int, Sendable, CaseIterable {
    case up = 1              // as stored
    case upMirrored = 2      // mirror left–right
    case down = 3            // rotate 180°
    case downMirrored = 4    // mirror top–bottom
    case leftMirrored = 5    // transpose (mirror along the main diagonal)
    case right = 6           // rotate 90° clockwise
    case rightMirrored = 7   // transverse (mirror along the anti-diagonal)
    case left = 8            // rotate 90° counter-clockwise

    /// Whether displaying upright swaps width and height.
    public var swapsDimensions: Bool { rawValue >= 5 }

    /// The upright image.
    public func applied(to image: RGBImage) -> RGBImage {
        if self == .up { return image }
        let w = image.width, h = image.height
        let outW = swapsDimensions ? h : w, outH = swapsDimensions ? w : h
        // The source pixel of output (x', y') is (x0 + x'·dxX + y'·dyX, y0 + x'·dxY + y'·dyY).
        let (x0, dxX, dyX, y0, dxY, dyY): (Int, Int, Int, Int, Int, Int)
        switch self {
        case .up: (x0, dxX, dyX, y0, dxY, dyY) = (0, 1, 0, 0, 0, 1)
        case .upMirrored: (x0, dxX, dyX, y0, dxY, dyY) = (w - 1, -1, 0, 0, 0, 1)
        case .down: (x0, dxX, dyX, y0, dxY, dyY) = (w - 1, -1, 0, h - 1, 0, -1)
        case .downMirrored: (x0, dxX, dyX, y0, dxY, dyY) = (0, 1, 0, h - 1, 0, -1)
        case .leftMirrored: (x0, dxX, dyX, y0, dxY, dyY) = (0, 0, 1, 0, 1, 0)
        case .right: (x0, dxX, dyX, y0, dxY, dyY) = (0, 0, 1, h - 1, -1, 0)
        case .rightMirrored: (x0, dxX, dyX, y0, dxY, dyY) = (w - 1, 0, -1, h - 1, -1, 0)
        case .left: (x0, dxX, dyX, y0, dxY, dyY) = (w - 1, 0, -1, 0, 1, 0)
        }
        // Step through the source in whole pixels (3 bytes each).
        let stepX = 3 * (dxX + dxY * w), stepY = 3 * (dyX + dyY * w)
        let pixels = [UInt8](unsafeUninitializedCapacity: outW * outH * 3) { out, count in
            image.pixels.withUnsafeBufferPointer { src in
                let s = src.baseAddress!, o = out.baseAddress!
                var rowStart = 3 * (x0 + y0 * w)
                var at = 0
                for _ in 0..<outH {
                    var p = rowStart
                    for _ in 0..<outW {
                        o[at] = s[p]; o[at + 1] = s[p + 1]; o[at + 2] = s[p + 2]
                        at += 3
                        p += stepX
                    }
                    rowStart += stepY
                }
            }
            count = outW * outH * 3
        }
        return RGBImage(width: outW, height: outH, pixels: pixels)
    }
}
