/// The resampling filters of `Resize`, with Pillow's definitions: the filter is stretched by the
/// scale factor when downscaling (antialiasing), so every source pixel contributes.
public enum ResampleFilter: String, Sendable, CaseIterable {
    case bilinear, bicubic

    /// Half-width of the filter at scale 1, in source pixels.
    var support: Double {
        switch self {
        case .bilinear: return 1
        case .bicubic: return 2
        }
    }

    /// The filter's weight at distance `x` (in filter units).
    @inline(__always)
    func weight(_ x: Double) -> Double {
        let x = abs(x)
        switch self {
        case .bilinear:
            return x < 1 ? 1 - x : 0
        case .bicubic:  // Keys' cubic with a = -0.5, as Pillow
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }
}

/// Separable resampling weights for one axis, in Pillow's 8-bit fixed point (22 fractional
/// bits): output position `i` reads `counts[i]` source pixels from `starts[i]` with weights
/// `weights[i * kernelSize ..< i * kernelSize + counts[i]]`.
struct ResampleCoefficients {
    static let precisionBits = 22   // 32 - 8 - 2, as Pillow: sums of 8-bit samples fit Int32

    let kernelSize: Int
    let starts: [Int]
    let counts: [Int]
    let weights: [Int32]

    init(inSize: Int, outSize: Int, filter: ResampleFilter) {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let kernelSize = Int(support.rounded(.up)) * 2 + 1
        let one = Double(1 << Self.precisionBits)
        var starts = [Int](repeating: 0, count: outSize)
        var counts = [Int](repeating: 0, count: outSize)
        var weights = [Int32](repeating: 0, count: outSize * kernelSize)
        var row = [Double](repeating: 0, count: kernelSize)
        for i in 0..<outSize {
            let center = (Double(i) + 0.5) * scale
            // Int(_:) truncates toward zero, as C's cast in Pillow does.
            let first = max(0, Int(center - support + 0.5))
            let end = min(inSize, Int(center + support + 0.5))
            let count = end - first
            var total = 0.0
            for t in 0..<count {
                let w = filter.weight((Double(t + first) - center + 0.5) / filterScale)
                row[t] = w
                total += w
            }
            for t in 0..<count {
                let w = total != 0 ? row[t] / total : row[t]
                weights[i * kernelSize + t] = Int32(w < 0 ? -0.5 + w * one : 0.5 + w * one)
            }
            starts[i] = first
            counts[i] = count
        }
        self.kernelSize = kernelSize
        self.starts = starts
        self.counts = counts
        self.weights = weights
    }
}

@inline(__always)
private func clip8(_ sum: Int32) -> UInt8 {
    let v = sum >> Int32(ResampleCoefficients.precisionBits)
    return v < 0 ? 0 : v > 255 ? 255 : UInt8(truncatingIfNeeded: v)
}

extension RGBImage {
    /// The size torchvision's `Resize(size)` (one int) gives: the shorter side becomes `shortSide`,
    /// the longer one `Int(shortSide · long / short)` (truncated, as Python's `int`).
    public static func size(fitting shortSide: Int, width: Int, height: Int) -> (width: Int, height: Int) {
        if width <= height {
            return (shortSide, Int(Double(shortSide * height) / Double(width)))
        }
        return (Int(Double(shortSide * width) / Double(height)), shortSide)
    }

    /// Resized so that the shorter side is `shortSide` (torchvision's `Resize(int)` on a PIL image).
    public func resized(shortSide: Int, filter: ResampleFilter = .bilinear) throws(ImageError) -> RGBImage {
        guard shortSide > 0 else { throw .invalidArgument(detail: "short side \(shortSide)") }
        let size = Self.size(fitting: shortSide, width: width, height: height)
        return try resized(width: max(1, size.width), height: max(1, size.height), filter: filter)
    }

    /// Resized to exactly `width`×`height`, as Pillow's `Image.resize` (antialiased, two
    /// separable passes, 8-bit intermediate, the same fixed-point arithmetic, the same pass order).
    public func resized(width: Int, height: Int, filter: ResampleFilter = .bilinear) throws(ImageError) -> RGBImage {
        try resized(region: ImageRegion(x: 0, y: 0, width: self.width, height: self.height),
                    width: width, height: height, filter: filter)
    }

    /// The pixels of `region` (inside the image) resized to `width`×`height`: the same result as
    /// cropping first and resizing the crop (torchvision's `resized_crop`), without the copy.
    public func resized(region: ImageRegion, width outW: Int, height outH: Int,
                        filter: ResampleFilter = .bilinear) throws(ImageError) -> RGBImage {
        guard outW > 0, outH > 0 else { throw .invalidArgument(detail: "resize to \(outW)×\(outH)") }
        guard region.isInside(width: width, height: height) else {
            throw .invalidArgument(detail: "region \(region) is not inside the \(width)×\(height) image")
        }
        let needsHorizontal = outW != region.width, needsVertical = outH != region.height
        if !needsHorizontal && !needsVertical { return try cropped(to: region) }
        // Pillow ≥ 13 runs the vertical pass first when the height shrinks by more than twice as
        // many pixels as the width does (python-pillow/Pillow#9549); earlier Pillow always went
        // horizontal first. The order changes the 8-bit intermediate, so we follow it.
        let verticalFirst = needsHorizontal && needsVertical && outH < region.height
            && region.height - outH > 2 * (region.width - outW)
        let rowStride = width * 3
        let vertical = ResampleCoefficients(inSize: region.height, outSize: outH, filter: filter)
        let horizontal = ResampleCoefficients(inSize: region.width, outSize: outW, filter: filter)

        return pixels.withUnsafeBufferPointer { source -> RGBImage in
            let origin = source.baseAddress! + (region.y * width + region.x) * 3
            if !needsHorizontal {
                let out = Self.resampleVertically(rows: origin, rowStride: rowStride, rowBytes: outW * 3,
                                                  outHeight: outH, coefficients: vertical, rowOffset: 0)
                return RGBImage(width: outW, height: outH, pixels: out)
            }
            if verticalFirst {
                let temp = Self.resampleVertically(rows: origin, rowStride: rowStride, rowBytes: region.width * 3,
                                                   outHeight: outH, coefficients: vertical, rowOffset: 0)
                let out = temp.withUnsafeBufferPointer { t in
                    Self.resampleHorizontally(rows: t.baseAddress!, rowStride: region.width * 3, rowCount: outH,
                                              outWidth: outW, coefficients: horizontal)
                }
                return RGBImage(width: outW, height: outH, pixels: out)
            }
            // Horizontal first, over only the source rows some output row reads.
            let firstRow = vertical.starts[0]
            let endRow = vertical.starts[outH - 1] + vertical.counts[outH - 1]
            let temp = Self.resampleHorizontally(rows: origin + firstRow * rowStride, rowStride: rowStride,
                                                 rowCount: endRow - firstRow, outWidth: outW, coefficients: horizontal)
            guard needsVertical else { return RGBImage(width: outW, height: outH, pixels: temp) }
            let out = temp.withUnsafeBufferPointer { t in
                Self.resampleVertically(rows: t.baseAddress!, rowStride: outW * 3, rowBytes: outW * 3,
                                        outHeight: outH, coefficients: vertical, rowOffset: firstRow)
            }
            return RGBImage(width: outW, height: outH, pixels: out)
        }
    }

    private static func resampleHorizontally(rows src: UnsafePointer<UInt8>, rowStride: Int, rowCount: Int,
                                             outWidth: Int, coefficients c: ResampleCoefficients) -> [UInt8] {
        let half = Int32(1) << Int32(ResampleCoefficients.precisionBits - 1)
        return [UInt8](unsafeUninitializedCapacity: outWidth * rowCount * 3) { out, count in
            c.starts.withUnsafeBufferPointer { starts in
            c.counts.withUnsafeBufferPointer { counts in
            c.weights.withUnsafeBufferPointer { weights in
                let k = weights.baseAddress!, ksize = c.kernelSize
                for row in 0..<rowCount {
                    let line = src + row * rowStride
                    var o = out.baseAddress! + row * outWidth * 3
                    for x in 0..<outWidth {
                        var p = line + starts[x] * 3
                        let w = k + x * ksize
                        var r = half, g = half, b = half
                        for t in 0..<counts[x] {
                            let wt = w[t]
                            r &+= Int32(p[0]) &* wt
                            g &+= Int32(p[1]) &* wt
                            b &+= Int32(p[2]) &* wt
                            p += 3
                        }
                        o[0] = clip8(r); o[1] = clip8(g); o[2] = clip8(b)
                        o += 3
                    }
                }
            }}}
            count = outWidth * rowCount * 3
        }
    }

    /// Output row y sums source rows `starts[y] - rowOffset …` (the rows given start at rowOffset).
    private static func resampleVertically(rows src: UnsafePointer<UInt8>, rowStride: Int, rowBytes: Int,
                                           outHeight: Int, coefficients c: ResampleCoefficients,
                                           rowOffset: Int) -> [UInt8] {
        let half = Int32(1) << Int32(ResampleCoefficients.precisionBits - 1)
        return [UInt8](unsafeUninitializedCapacity: rowBytes * outHeight) { out, count in
            let sums = UnsafeMutablePointer<Int32>.allocate(capacity: rowBytes)
            defer { sums.deallocate() }
            c.weights.withUnsafeBufferPointer { weights in
                for y in 0..<outHeight {
                    sums.initialize(repeating: half, count: rowBytes)
                    let w = weights.baseAddress! + y * c.kernelSize
                    let first = c.starts[y] - rowOffset
                    for t in 0..<c.counts[y] {
                        let wt = w[t]
                        let line = src + (first + t) * rowStride
                        for i in 0..<rowBytes { sums[i] &+= Int32(line[i]) &* wt }
                    }
                    let o = out.baseAddress! + y * rowBytes
                    for i in 0..<rowBytes { o[i] = clip8(sums[i]) }
                }
            }
            count = rowBytes * outHeight
        }
    }
}

/// Resize to a shortest side (torchvision `Resize(int)`) or to an exact size.
public struct Resize: ImageTransform {
    public enum Size: Equatable, Sendable {
        case shortSide(Int)
        case exact(width: Int, height: Int)
    }

    public let size: Size
    public let filter: ResampleFilter

    public init(_ size: Size, filter: ResampleFilter = .bilinear) throws(ImageError) {
        switch size {
        case .shortSide(let s) where s <= 0, .exact(let s, _) where s <= 0, .exact(_, let s) where s <= 0:
            throw .invalidArgument(detail: "Resize to \(size)")
        default: break
        }
        self.size = size
        self.filter = filter
    }

    public func apply<G: RandomNumberGenerator>(to image: RGBImage, using generator: inout G) throws(ImageError) -> RGBImage {
        switch size {
        case .shortSide(let side): return try image.resized(shortSide: side, filter: filter)
        case .exact(let w, let h): return try image.resized(width: w, height: h, filter: filter)
        }
    }

    public var decodeShortSideHint: Int? {
        if case .shortSide(let side) = size { return side }
        return nil
    }
}
