/// torchvision's `CenterCrop`: the central `width`×`height` pixels. Offsets are rounded as
/// Python's `round` does (half to even); a crop larger than the image is padded with black.
public struct CenterCrop: ImageTransform {
    public let width: Int, height: Int

    public init(width: Int, height: Int) throws(ImageError) {
        guard width > 0, height > 0 else { throw .invalidArgument(detail: "CenterCrop of \(width)×\(height)") }
        self.width = width
        self.height = height
    }

    public init(size: Int) throws(ImageError) { try self.init(width: size, height: size) }

    /// Where the crop lies in an image of the given size (it may reach outside).
    public func region(imageWidth: Int, imageHeight: Int) -> ImageRegion {
        ImageRegion(x: Self.offset(image: imageWidth, crop: width),
                    y: Self.offset(image: imageHeight, crop: height), width: width, height: height)
    }

    /// torchvision pads a too-small side by `(crop - image) / 2` (floored) on the leading edge,
    /// and otherwise starts the crop at `round((image - crop) / 2)`.
    static func offset(image: Int, crop: Int) -> Int {
        if crop > image { return -((crop - image) / 2) }
        return Int((Double(image - crop) / 2).rounded(.toNearestOrEven))
    }

    public func apply<G: RandomNumberGenerator>(to image: RGBImage, using generator: inout G) throws(ImageError) -> RGBImage {
        try image.cropped(to: region(imageWidth: image.width, imageHeight: image.height))
    }
}
