extension RGBImage {
    /// The mirror image (left and right swapped).
    public func flippedHorizontally() -> RGBImage {
        let w = width, h = height
        let pixels = [UInt8](unsafeUninitializedCapacity: w * h * 3) { out, count in
            self.pixels.withUnsafeBufferPointer { src in
                let s = src.baseAddress!, o = out.baseAddress!
                for y in 0..<h {
                    let row = y * w * 3
                    for x in 0..<w {
                        let from = row + x * 3, to = row + (w - 1 - x) * 3
                        o[to] = s[from]; o[to + 1] = s[from + 1]; o[to + 2] = s[from + 2]
                    }
                }
            }
            count = w * h * 3
        }
        return RGBImage(width: w, height: h, pixels: pixels)
    }
}

/// torchvision's `RandomHorizontalFlip(p)`: mirrors the image with probability `probability`
/// (1 always flips, 0 never draws from the generator).
public struct HorizontalFlip: ImageTransform {
    public let probability: Double

    public init(probability: Double = 0.5) throws(ImageError) {
        guard probability >= 0, probability <= 1 else {
            throw .invalidArgument(detail: "HorizontalFlip probability \(probability) outside [0, 1]")
        }
        self.probability = probability
    }

    public func apply<G: RandomNumberGenerator>(to image: RGBImage, using generator: inout G) throws(ImageError) -> RGBImage {
        if probability <= 0 { return image }
        if probability >= 1 { return image.flippedHorizontally() }
        return Double.random(in: 0..<1, using: &generator) < probability ? image.flippedHorizontally() : image
    }
}
