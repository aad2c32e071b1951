/// An 8-bit RGB image in row-major HWC order: `pixels[(y * width + x) * 3 + c]`.
/// The one pixel type shared by decoding, transforms, rendering and encoding.
public struct RGBImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3,
                     "RGBImage: \(pixels.count) bytes for \(width)×\(height)×3")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A uniformly filled image.
    public init(width: Int, height: Int, fill: (r: UInt8, g: UInt8, b: UInt8)) {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in stride(from: 0, to: pixels.count, by: 3) {
            pixels[i] = fill.r; pixels[i + 1] = fill.g; pixels[i + 2] = fill.b
        }
        self.init(width: width, height: height, pixels: pixels)
    }
}
