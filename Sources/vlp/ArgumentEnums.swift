import ArgumentParser
import VLP

// The library's closed sets, as command-line option values: parsed once at the boundary, with an
// error listing the allowed values.
extension TokenizerKind: ExpressibleByArgument {}

/// A `--format` value (case ignored, as `vlp data` always has): `transform:` of every format option.
func datasetFormat(_ name: String) throws -> DatasetFormat {
    guard let format = DatasetFormat(rawValue: name.lowercased()) else {
        throw ValidationError("unknown format \"\(name)\"; one of: \(DatasetFormat.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return format
}
