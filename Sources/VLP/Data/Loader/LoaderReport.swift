import Foundation

/// Why a record was left out of the batches.
public enum SkipReason: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    /// The format reader rejected the record (no image member, bad json, duplicate key, damaged
    /// shard, empty text in formats that check it while reading, …).
    case unreadableRecord = "unreadable record"
    /// The sample has no image.
    case missingImage = "missing image"
    /// The image bytes could not be read or decoded (corrupt, truncated, unknown format).
    case undecodableImage = "undecodable image"
    /// An image transform failed on the decoded image.
    case transformFailed = "transform failed"
    /// No text passes the loader's text selection (none, all empty, or no positive one).
    case noUsableText = "no usable text"
    /// The tokenizer refused the chosen text.
    case tokenizationFailed = "tokenization failed"
    /// The sample's detector regions (`RegionFiles`) are missing or malformed.
    case unreadableRegions = "unreadable regions"

    public var description: String { rawValue }
}

/// One record left out, and where it was.
public struct LoaderSkip: Equatable, Sendable, CustomStringConvertible {
    /// The data unit (shard or file) the record came from.
    public var file: String
    /// Where in `file`: for reader skips, the reader's own location (line number of line
    /// formats, byte offset of the tar member header); for samples the loader skipped, nil.
    public var readerLocation: Int?
    /// For samples the loader skipped: the 0-based ordinal of the sample among the good records
    /// of `file`, in file order.
    public var recordIndex: Int?
    public var sampleID: String?
    public var reason: SkipReason
    public var detail: String

    public init(file: String, readerLocation: Int? = nil, recordIndex: Int? = nil, sampleID: String? = nil,
                reason: SkipReason, detail: String) {
        self.file = file
        self.readerLocation = readerLocation
        self.recordIndex = recordIndex
        self.sampleID = sampleID
        self.reason = reason
        self.detail = detail
    }

    public var description: String {
        var place = file
        if let readerLocation { place += ":\(readerLocation)" }
        if let recordIndex { place += " record \(recordIndex)" }
        if let sampleID { place += " (sample \(sampleID))" }
        return "\(place): \(reason): \(detail)"
    }
}

/// The skips a loader has seen since it was made: a count per reason (never capped) and the
/// first `exampleLimit` skips themselves, so memory does not grow with the dataset.
///
/// Reader skips are counted each time their file is read (once per epoch, and again for the
/// part of an epoch re-read on resume); samples skipped by the loader are counted when a worker
/// meets them, which resuming does not repeat.
public struct LoaderReport: Equatable, Sendable, CustomStringConvertible {
    public private(set) var counts: [SkipReason: Int] = [:]
    public private(set) var examples: [LoaderSkip] = []
    public let exampleLimit: Int
    /// Samples that made it into batches.
    public internal(set) var samplesDelivered = 0

    public init(exampleLimit: Int = 100) {
        self.exampleLimit = max(0, exampleLimit)
    }

    public var totalSkipped: Int { counts.values.reduce(0, +) }

    public func count(_ reason: SkipReason) -> Int { counts[reason] ?? 0 }

    mutating func record(_ skip: LoaderSkip) {
        counts[skip.reason, default: 0] += 1
        if examples.count < exampleLimit { examples.append(skip) }
    }

    /// One line per reason with its count, then the examples kept.
    public var description: String {
        var lines = ["\(samplesDelivered) samples delivered, \(totalSkipped) skipped"]
        for reason in SkipReason.allCases where count(reason) > 0 {
            lines.append("  \(reason): \(count(reason))")
        }
        for skip in examples { lines.append("  - \(skip)") }
        if totalSkipped > examples.count { lines.append("  … \(totalSkipped - examples.count) more not listed") }
        return lines.joined(separator: "\n")
    }
}
