import Torch

/// A batch's detector regions (`SampleRegions` of each sample), padded to the batch's largest
/// region count: the single stream's image input and MOC's class labels.
public struct RegionBatch {
    /// Features [B, R, F], boxes [B, R, 5], mask [B, R] (1 at real regions, 0 at padding).
    public let regions: ImageRegions
    /// [B, R] int64: each region's detector class, -100 at padding.
    public let classes: Tensor

    public init(regions: ImageRegions, classes: Tensor) throws {
        guard classes.shape == [regions.features.size(0), regions.count] else {
            throw ModelError.invalidInput(name: "regions.classes", reason: "shape \(classes.shape) does not match features \(regions.features.shape)")
        }
        (self.regions, self.classes) = (regions, classes)
    }

    /// The samples' regions in batch order; every sample's features must have one width.
    init(_ samples: [SampleRegions], sampleIDs: [String]) throws {
        let b = samples.count
        let r = max(1, samples.map(\.count).max() ?? 1)
        let f = samples.first?.featureWidth ?? 1
        var features = [Float](repeating: 0, count: b * r * f), boxes = [Float](repeating: 0, count: b * r * 5)
        var mask = [Int64](repeating: 0, count: b * r), classes = [Int64](repeating: -100, count: b * r)
        for (i, sample) in samples.enumerated() {
            guard sample.featureWidth == f else {
                throw DatasetError.invalidArgument("batch assembly: sample \(sampleIDs[i])'s region features are \(sample.featureWidth) wide, \(sampleIDs[0])'s \(f)")
            }
            features.replaceSubrange((i * r * f)..<(i * r * f + sample.features.count), with: sample.features)
            boxes.replaceSubrange((i * r * 5)..<(i * r * 5 + sample.boxes.count), with: sample.boxes)
            for j in 0..<sample.count {
                mask[i * r + j] = 1
                classes[i * r + j] = sample.classes[j]
            }
        }
        try self.init(regions: try ImageRegions(features: try Tensor(features, shape: [b, r, f]), boxes: try Tensor(boxes, shape: [b, r, 5]),
                                                mask: try Tensor(mask, shape: [b, r])),
                      classes: try Tensor(classes, shape: [b, r]))
    }

    /// The regions of rows `index` (int64 [N]), on `device`.
    public func selecting(_ index: Tensor, device: Device) throws -> ImageRegions {
        try regions.mapped { try $0.indexSelect(dim: 0, index).to(device: device) }
    }

    public func to(device: Device) throws -> RegionBatch {
        try RegionBatch(regions: regions.mapped { try $0.to(device: device) }, classes: classes.to(device: device))
    }
}
