/// Per-channel normalization of 8-bit pixels into floats: `(p / 255 - mean) / std`, computed in
/// Float32 in exactly the order torchvision's `ToTensor` + `Normalize` compute it, so the values
/// match bit for bit. Every 8-bit value is precomputed once: the conversion is a table look-up.
public struct Normalization: Equatable, Sendable {
    public let mean: [Float]
    public let std: [Float]
    /// 3 × 256 values: `table[c * 256 + p]`.
    let table: [Float]

    public init(mean: [Float], std: [Float]) throws(ImageError) {
        guard mean.count == 3, std.count == 3 else {
            throw .invalidArgument(detail: "Normalization needs 3 means and 3 deviations, got \(mean.count) and \(std.count)")
        }
        guard std.allSatisfy({ $0 > 0 && $0.isFinite }), mean.allSatisfy(\.isFinite) else {
            throw .invalidArgument(detail: "Normalization std \(std) must be positive, mean \(mean) finite")
        }
        self.init(checkedMean: mean, std: std)
    }

    private init(checkedMean mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
        var table = [Float](repeating: 0, count: 3 * 256)
        for c in 0..<3 {
            for p in 0..<256 {
                table[c * 256 + p] = (Float(p) / 255 - mean[c]) / std[c]
            }
        }
        self.table = table
    }

    /// OpenAI CLIP's statistics (also Chinese-CLIP's and R2D2's).
    public static let clip = Normalization(checkedMean: [0.48145466, 0.4578275, 0.40821073],
                                           std: [0.26862954, 0.26130258, 0.27577711])
    /// ImageNet's statistics (torchvision's classification models).
    public static let imagenet = Normalization(checkedMean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    /// Only `p / 255` (torchvision's `ToTensor` alone).
    public static let unitRange = Normalization(checkedMean: [0, 0, 0], std: [1, 1, 1])

    /// The image as a normalized CHW buffer.
    public func tensorData(from image: RGBImage) -> ImageTensorData {
        let plane = image.width * image.height
        let values = [Float](unsafeUninitializedCapacity: 3 * plane) { out, count in
            write(image, into: UnsafeMutableBufferPointer(rebasing: out[0..<3 * plane]))
            count = 3 * plane
        }
        return ImageTensorData(values: values, channels: 3, height: image.height, width: image.width)
    }

    /// Writes the normalized CHW values of `image` into `destination` (exactly 3·H·W floats),
    /// e.g. straight into one slot of a batch buffer.
    public func write(_ image: RGBImage, into destination: UnsafeMutableBufferPointer<Float>) {
        let plane = image.width * image.height
        precondition(destination.count == 3 * plane,
                     "Normalization.write: \(destination.count) floats for a 3×\(image.height)×\(image.width) image")
        table.withUnsafeBufferPointer { t in
            image.pixels.withUnsafeBufferPointer { src in
                let r = t.baseAddress!, g = r + 256, b = r + 512
                let s = src.baseAddress!, o = destination.baseAddress!
                for i in 0..<plane {
                    o[i] = r[Int(s[3 * i])]
                    o[plane + i] = g[Int(s[3 * i + 1])]
                    o[2 * plane + i] = b[Int(s[3 * i + 2])]
                }
            }
        }
    }
}
