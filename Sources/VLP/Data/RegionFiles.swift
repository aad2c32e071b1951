import Foundation

/// One image's detector output, as ImageBERT's single stream reads it: R regions, each a feature
/// vector, a box and an object class.
public struct SampleRegions: Equatable, Sendable {
    /// [R, F] row-major.
    public var features: [Float]
    /// [R, 5]: x1, y1, x2, y2 normalised to [0, 1] and the area fraction (ImageBERT's location vector).
    public var boxes: [Float]
    /// [R] the detector's class of each region.
    public var classes: [Int64]
    public var featureWidth: Int

    public var count: Int { classes.count }

    public init(features: [Float], boxes: [Float], classes: [Int64], featureWidth: Int) throws {
        guard featureWidth > 0, features.count == classes.count * featureWidth, boxes.count == classes.count * 5 else {
            throw DatasetError.invalidArgument("regions: \(classes.count) classes, \(features.count) feature values of width \(featureWidth) and \(boxes.count) box values do not fit [R, F], [R, 5], [R]")
        }
        (self.features, self.boxes, self.classes, self.featureWidth) = (features, boxes, classes, featureWidth)
    }
}

/// A folder of precomputed detector regions, three `.npy` files per sample named by its id —
/// the layout feature-extraction scripts (bottom-up attention and the like) are easily made to
/// write:
///
///     REGIONS/<sample id>.features.npy   float32 [R, F]
///     REGIONS/<sample id>.boxes.npy      float32 [R, 5] (x1, y1, x2, y2 in [0, 1], area) or [R, 4] (corners in [0, 1])
///     REGIONS/<sample id>.classes.npy    int64, int32 or float32 [R]: the detector's class ids, 0 ..< classes
///
/// `vlp data synth --regions` writes them for the built-in corpus (`ScenesDetector`).
public struct RegionFiles: Sendable {
    public let folder: URL

    public init(folder: URL) {
        self.folder = folder
    }

    func url(_ sampleID: String, _ part: String) throws -> URL {
        guard !sampleID.isEmpty, !sampleID.contains("/"), sampleID != ".", sampleID != ".." else {
            throw DatasetError.invalidArgument("regions: sample id \"\(sampleID)\" cannot name a file")
        }
        return folder.appendingPathComponent("\(sampleID).\(part).npy")
    }

    /// The regions of one sample; an error naming the file when one is missing or malformed.
    public func read(_ sampleID: String) throws -> SampleRegions {
        func load(_ part: String) throws -> (shape: [Int], values: [Float], path: String) {
            let file = try url(sampleID, part)
            guard FileManager.default.fileExists(atPath: file.path) else { throw DatasetError.fileNotFound(file.path) }
            let array = try NumpyArrayFile.read(file)
            return (array.shape, array.values, file.path)
        }
        let features = try load("features"), boxes = try load("boxes"), classes = try load("classes")
        guard features.shape.count == 2, features.shape[1] > 0 else {
            throw DatasetError.invalidArgument("\(features.path): shape \(features.shape), expected [R, F]")
        }
        let r = features.shape[0]
        guard classes.shape == [r] else { throw DatasetError.invalidArgument("\(classes.path): shape \(classes.shape), expected [\(r)]") }
        guard classes.values.allSatisfy({ $0 >= 0 && $0 == $0.rounded() }) else {
            throw DatasetError.invalidArgument("\(classes.path): class ids must be whole numbers ≥ 0")
        }
        let box: [Float]
        switch boxes.shape {
        case [r, 5]: box = boxes.values
        case [r, 4]: box = ImageRegions.locationVectors(corners: boxes.values)
        default: throw DatasetError.invalidArgument("\(boxes.path): shape \(boxes.shape), expected [\(r), 5] or [\(r), 4]")
        }
        guard box.allSatisfy({ $0.isFinite && $0 >= -0.01 && $0 <= 1.01 }) else {
            throw DatasetError.invalidArgument("\(boxes.path): box values must be fractions of the image side in [0, 1]")
        }
        return try SampleRegions(features: features.values, boxes: box, classes: classes.values.map { Int64($0) }, featureWidth: features.shape[1])
    }

    /// Writes one sample's three files (each atomically).
    public func write(_ regions: SampleRegions, for sampleID: String) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try NumpyArrayFile.write(regions.features, shape: [regions.count, regions.featureWidth], to: url(sampleID, "features"))
        try NumpyArrayFile.write(regions.boxes, shape: [regions.count, 5], to: url(sampleID, "boxes"))
        try NumpyArrayFile.write(regions.classes.map(Float.init), shape: [regions.count], to: url(sampleID, "classes"))
    }
}
