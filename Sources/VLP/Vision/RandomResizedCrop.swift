import Foundation

/// torchvision's `RandomResizedCrop`: a random region covering a `scale` fraction of the image
/// area with a width/height `ratio` drawn log-uniformly, resized to `width`×`height`. The region
/// is drawn by torchvision's `get_params` algorithm (ten tries, then a central crop clamped to
/// the ratio range), from the generator given — the same distribution, not the same numbers as
/// torch's generator.
public struct RandomResizedCrop: ImageTransform {
    public let width: Int, height: Int
    public let scale: ClosedRange<Double>
    public let ratio: ClosedRange<Double>
    public let filter: ResampleFilter

    public init(width: Int, height: Int, scale: ClosedRange<Double> = 0.08...1.0,
                ratio: ClosedRange<Double> = (3.0 / 4.0)...(4.0 / 3.0),
                filter: ResampleFilter = .bilinear) throws(ImageError) {
        guard width > 0, height > 0 else { throw .invalidArgument(detail: "RandomResizedCrop to \(width)×\(height)") }
        guard scale.lowerBound > 0, scale.upperBound <= 1 else {
            throw .invalidArgument(detail: "RandomResizedCrop scale \(scale) must lie in (0, 1]")
        }
        guard ratio.lowerBound > 0, ratio.upperBound.isFinite else {
            throw .invalidArgument(detail: "RandomResizedCrop ratio \(ratio) must be positive and finite")
        }
        self.width = width
        self.height = height
        self.scale = scale
        self.ratio = ratio
        self.filter = filter
    }

    public init(size: Int, scale: ClosedRange<Double> = 0.08...1.0,
                ratio: ClosedRange<Double> = (3.0 / 4.0)...(4.0 / 3.0),
                filter: ResampleFilter = .bilinear) throws(ImageError) {
        try self.init(width: size, height: size, scale: scale, ratio: ratio, filter: filter)
    }

    /// The crop for an image of the given size (torchvision's `RandomResizedCrop.get_params`).
    public func region<G: RandomNumberGenerator>(imageWidth: Int, imageHeight: Int,
                                                 using generator: inout G) -> ImageRegion {
        let area = Double(imageWidth * imageHeight)
        let logRatio = log(ratio.lowerBound)...log(ratio.upperBound)
        for _ in 0..<10 {
            let targetArea = area * Double.random(in: scale, using: &generator)
            let aspect = exp(Double.random(in: logRatio, using: &generator))
            // Python's round: half to even.
            let w = Int((targetArea * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((targetArea / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0, w <= imageWidth, h > 0, h <= imageHeight {
                let y = Int.random(in: 0...(imageHeight - h), using: &generator)
                let x = Int.random(in: 0...(imageWidth - w), using: &generator)
                return ImageRegion(x: x, y: y, width: w, height: h)
            }
        }
        // Fallback: the whole image, cut to the nearest allowed ratio, centred.
        let inRatio = Double(imageWidth) / Double(imageHeight)
        var w = imageWidth, h = imageHeight
        if inRatio < ratio.lowerBound {
            h = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))
        } else if inRatio > ratio.upperBound {
            w = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))
        }
        w = min(max(w, 1), imageWidth)
        h = min(max(h, 1), imageHeight)
        return ImageRegion(x: (imageWidth - w) / 2, y: (imageHeight - h) / 2, width: w, height: h)
    }

    public func apply<G: RandomNumberGenerator>(to image: RGBImage, using generator: inout G) throws(ImageError) -> RGBImage {
        let box = region(imageWidth: image.width, imageHeight: image.height, using: &generator)
        return try image.resized(region: box, width: width, height: height, filter: filter)
    }
}
