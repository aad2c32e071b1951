import Foundation
import Torch

/// The image side of a single-stream model: one feature vector and one 5-d box per region.
/// Regions are either a detector's (ImageBERT's Faster R-CNN features, precomputed and read from
/// `.npy` files) or the image's own non-overlapping pixel patches (as ViLT embeds images).
public struct ImageRegions {
    /// [B, R, F] float.
    public let features: Tensor
    /// [B, R, 5]: x1, y1, x2, y2 normalised to [0, 1] by the image size, and the box area
    /// fraction — ImageBERT's location vector.
    public let boxes: Tensor
    /// [B, R], 1 at real regions and 0 at padding; nil when every region is real.
    public let mask: Tensor?

    public init(features: Tensor, boxes: Tensor, mask: Tensor? = nil) throws {
        guard features.rank == 3, boxes.rank == 3, boxes.size(2) == 5,
              boxes.size(0) == features.size(0), boxes.size(1) == features.size(1) else {
            throw ModelError.invalidInput(name: "regions", reason: "expected features [B, R, F] and boxes [B, R, 5], got \(features.shape) and \(boxes.shape)")
        }
        if let mask, mask.shape != [features.size(0), features.size(1)] {
            throw ModelError.invalidInput(name: "regions.mask", reason: "shape \(mask.shape) does not match \(features.shape)")
        }
        self.features = features
        self.boxes = boxes
        self.mask = mask
    }

    public var count: Int { features.size(1) }

    /// The same regions with `transform` applied to features, boxes and mask alike (moved to a
    /// device, rows selected, batches joined).
    public func mapped(_ transform: (Tensor) throws -> Tensor) throws -> ImageRegions {
        try ImageRegions(features: transform(features), boxes: transform(boxes), mask: mask.map(transform))
    }
    public var featureWidth: Int { features.size(2) }

    /// Pixel patches as regions: [B, C, H, W] → R = (H/p)·(W/p) regions of C·p·p values each, in
    /// row-major grid order, with their grid boxes.
    public static func patches(of images: Tensor, patchSize p: Int) throws -> ImageRegions {
        guard images.rank == 4, images.size(2) % p == 0, images.size(3) % p == 0 else {
            throw ModelError.invalidInput(name: "images", reason: "expected [B, C, H, W] with H and W multiples of \(p), got \(images.shape)")
        }
        let (b, c, h, w) = (images.size(0), images.size(1), images.size(2), images.size(3))
        let (gh, gw) = (h / p, w / p)
        let features = try images.reshaped([b, c, gh, p, gw, p]).permuted([0, 2, 4, 1, 3, 5]).reshaped([b, gh * gw, c * p * p])
        var boxes: [Float] = []
        boxes.reserveCapacity(gh * gw * 5)
        let area = Float(p * p) / Float(h * w)
        for i in 0..<gh {
            for j in 0..<gw {
                boxes += [Float(j * p) / Float(w), Float(i * p) / Float(h), Float((j + 1) * p) / Float(w), Float((i + 1) * p) / Float(h), area]
            }
        }
        let boxTensor = try Tensor(boxes, shape: [1, gh * gw, 5]).to(images.dtype, device: images.device).expanded([b, gh * gw, 5])
        return try ImageRegions(features: features, boxes: boxTensor)
    }

    /// ImageBERT's 5-d location vectors from row-major [R, 4] corners x1, y1, x2, y2 in units of
    /// `width` and `height` (pixels, or 1 for corners already in [0, 1]): the corners as fractions
    /// of the image side, then the area fraction.
    public static func locationVectors(corners: [Float], width: Float = 1, height: Float = 1) -> [Float] {
        stride(from: 0, to: corners.count - 3, by: 4).flatMap { i -> [Float] in
            let (x1, y1) = (corners[i] / width, corners[i + 1] / height)
            let (x2, y2) = (corners[i + 2] / width, corners[i + 3] / height)
            return [x1, y1, x2, y2, max(0, x2 - x1) * max(0, y2 - y1)]
        }
    }

    /// One image's precomputed detector output: `features` is an `.npy` float array [R, F],
    /// `boxes` an `.npy` [R, 5] (or [R, 4] pixel corners with `imageSize`, turned into ImageBERT's
    /// normalised 5-d vector).
    public static func load(features featuresURL: URL, boxes boxesURL: URL, imageSize: (width: Int, height: Int)? = nil) throws -> ImageRegions {
        let f = try NumpyArrayFile.read(featuresURL)
        let b = try NumpyArrayFile.read(boxesURL)
        guard f.shape.count == 2, b.shape.count == 2, b.shape[0] == f.shape[0], b.shape[1] == 5 || b.shape[1] == 4 else {
            throw ModelError.invalidInput(name: "regions", reason: "\(featuresURL.lastPathComponent) is \(f.shape) and \(boxesURL.lastPathComponent) is \(b.shape); expected [R, F] and [R, 5] (or [R, 4] with the image size)")
        }
        var boxes = b.values
        if b.shape[1] == 4 {
            guard let size = imageSize, size.width > 0, size.height > 0 else {
                throw ModelError.invalidInput(name: "regions", reason: "\(boxesURL.lastPathComponent) holds pixel corners [R, 4]; pass the image size")
            }
            boxes = locationVectors(corners: b.values, width: Float(size.width), height: Float(size.height))
        }
        let r = f.shape[0]
        return try ImageRegions(features: Tensor(f.values, shape: [1, r, f.shape[1]]), boxes: Tensor(boxes, shape: [1, r, 5]))
    }
}
