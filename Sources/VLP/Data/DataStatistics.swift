import Foundation

/// Counts and distributions over a dataset, for `vlp data inspect`. Image sizes come from the
/// image headers (PNG IHDR, JPEG SOF, WebP, PPM), not from decoding.
public struct DataStatistics: Codable, Equatable, Sendable {
    /// min / max / mean / median of a list of numbers.
    public struct Summary: Codable, Equatable, Sendable {
        public var count = 0
        public var min = 0
        public var max = 0
        public var mean = 0.0
        public var median = 0.0

        init(_ values: [Int]) {
            guard !values.isEmpty else { return }
            let sorted = values.sorted()
            count = values.count
            min = sorted.first!
            max = sorted.last!
            mean = Double(values.reduce(0, +)) / Double(values.count)
            let mid = sorted.count / 2
            median = sorted.count % 2 == 1 ? Double(sorted[mid]) : Double(sorted[mid - 1] + sorted[mid]) / 2
        }

        public init() {}
    }

    public var samples = 0
    /// Samples with an image.
    public var images = 0
    /// Distinct images (by file path, or by content for embedded bytes and pixels).
    public var distinctImages = 0
    public var texts = 0
    /// Records the readers skipped (bad samples).
    public var skipped = 0
    public var textsByKind: [String: Int] = [:]
    public var textsByLanguage: [String: Int] = [:]
    public var textsByRole: [String: Int] = [:]
    public var labels: [String: Int] = [:]
    /// Text length in characters (grapheme clusters).
    public var textLength = Summary()
    public var imageWidth = Summary()
    public var imageHeight = Summary()
    public var imageFormats: [String: Int] = [:]
    /// Images whose size could not be read from the header.
    public var imagesOfUnknownSize = 0
    /// The first skips, as `file:line: reason`.
    public var skipExamples: [String] = []

    public init() {}

    /// Reads every part to the end and gathers the statistics.
    public static func gather(_ parts: [DatasetFormat.Part], maxSkipExamples: Int = 20) throws -> DataStatistics {
        var collector = Collector()
        for part in parts {
            while let sample = try part.reader.next() { try collector.add(sample) }
            collector.skips.append(contentsOf: part.reader.skipped)
        }
        return collector.finish(maxSkipExamples: maxSkipExamples)
    }

    struct Collector {
        var stats = DataStatistics()
        var lengths: [Int] = []
        var widths: [Int] = []
        var heights: [Int] = []
        var seenImages = Set<Int64>()
        var skips: [SkippedRecord] = []

        mutating func add(_ sample: Sample) throws {
            stats.samples += 1
            stats.texts += sample.texts.count
            for text in sample.texts {
                stats.textsByKind[text.kind.rawValue, default: 0] += 1
                stats.textsByLanguage[text.language ?? "unknown", default: 0] += 1
                stats.textsByRole[text.role.name, default: 0] += 1
                lengths.append(text.text.count)
            }
            if let label = sample.label { stats.labels[String(label), default: 0] += 1 }
            guard let image = sample.image else { return }
            stats.images += 1
            seenImages.insert(image.identity)
            var size: ImageSize?
            var format = "unknown"
            if case .pixels(let raster) = image {
                size = ImageSize(width: raster.width, height: raster.height)
                format = "pixels"
            } else if let head = image.headerBytes {
                size = ImageSize(header: head)
                format = ImageContainer.sniff(head)?.rawValue ?? "unknown"
            }
            stats.imageFormats[format, default: 0] += 1
            if let size {
                widths.append(size.width)
                heights.append(size.height)
            } else {
                stats.imagesOfUnknownSize += 1
            }
        }

        func finish(maxSkipExamples: Int) -> DataStatistics {
            var stats = self.stats
            stats.distinctImages = seenImages.count
            stats.skipped = skips.count
            stats.skipExamples = skips.prefix(maxSkipExamples).map(\.description)
            stats.textLength = Summary(lengths)
            stats.imageWidth = Summary(widths)
            stats.imageHeight = Summary(heights)
            return stats
        }
    }
}
