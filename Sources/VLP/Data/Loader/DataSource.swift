import Foundation

/// What a loader reads: a list of units (shards or files) and how to open one as a
/// `SampleReader`. The unit order is what the loader shuffles per epoch and deals to ranks.
public struct DataSource: Sendable {
    public let units: [String]
    private let opener: @Sendable (String) throws -> SampleReader

    public init(units: [String], open: @escaping @Sendable (String) throws -> SampleReader) throws {
        guard !units.isEmpty else { throw DatasetError.invalidArgument("data source: no files to read") }
        self.units = units
        self.opener = open
    }

    /// A reader of one unit.
    public func open(_ unit: String) throws -> SampleReader { try opener(unit) }

    /// WebDataset shards, one unit each.
    public static func webDataset(shards: [String]) throws -> DataSource {
        _ = try WebDataset.Reader(shards: shards)           // every shard must exist, checked now
        return try DataSource(units: shards) { try WebDataset.Reader(shards: [$0]) }
    }

    /// WebDataset shards named by a brace pattern (`data/shard-{000000..000099}.tar`).
    public static func webDataset(pattern: String) throws -> DataSource {
        try webDataset(shards: try WebDataset.shards(matching: pattern))
    }

    /// A dataset on disk in any format `DatasetFormat.open` reads: its part named `part`, or its
    /// only part (`DatasetFormat.openPart`). WebDataset shards become one unit each; any other
    /// part is one unit.
    public static func dataset(at path: String, format: DatasetFormat? = nil, part: String? = nil,
                               options: DatasetFormat.Options = .init()) throws -> DataSource {
        let chosen = try DatasetFormat.openPart(path, format: format, part: part, options: options)
        if let shards = (chosen.reader as? WebDataset.Reader)?.shards { return try webDataset(shards: shards) }
        return try DataSource(units: [path]) { unit in
            try DatasetFormat.openPart(unit, format: format, part: chosen.name, options: options).reader
        }
    }

    /// Samples held in memory, in units of `perUnit` (named `memory[START..<END]`).
    public static func samples(_ samples: [Sample], perUnit: Int = 1000) throws -> DataSource {
        guard perUnit > 0 else { throw DatasetError.invalidArgument("samples per unit must be positive, got \(perUnit)") }
        var units: [String] = []
        var chunks: [String: ArraySlice<Sample>] = [:]
        for start in stride(from: 0, to: samples.count, by: perUnit) {
            let range = start..<min(samples.count, start + perUnit)
            let name = "memory[\(range.lowerBound)..<\(range.upperBound)]"
            units.append(name)
            chunks[name] = samples[range]
        }
        let table = chunks
        return try DataSource(units: units) { unit in
            guard let chunk = table[unit] else { throw DatasetError.fileNotFound(unit) }
            return MemorySampleReader(Array(chunk))
        }
    }
}

/// Yields the samples it was given.
final class MemorySampleReader: SampleReader {
    private let samples: [Sample]
    private var index = 0
    let skipped: [SkippedRecord] = []

    init(_ samples: [Sample]) { self.samples = samples }

    func next() throws -> Sample? {
        guard index < samples.count else { return nil }
        defer { index += 1 }
        return samples[index]
    }
}
