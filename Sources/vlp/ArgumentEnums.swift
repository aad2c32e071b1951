import ArgumentParser
import VLP

// The library's closed sets, as command-line option values: parsed once at the boundary, with an
// error listing the allowed values. (`Device` options parse with `transform: Device.init(parsing:)`,
// whose error says what a device looks like.)
extension TokenizerKind: ExpressibleByArgument {}
extension PretrainingRun.Precision: ExpressibleByArgument {}

extension DatasetFormat: ExpressibleByArgument {
    /// Names are matched ignoring case, as `vlp data` always has.
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

/// A `--format` value (case ignored) with an error naming the formats: `transform:` of the
/// format options whose message existing scripts and tests read.
func datasetFormat(_ name: String) throws -> DatasetFormat {
    guard let format = DatasetFormat(argument: name) else {
        throw ValidationError("unknown format \"\(name)\"; one of: \(DatasetFormat.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return format
}
