import ArgumentParser
import VLP

// The library's closed sets, as command-line option values: parsed once at the boundary, with
// swift-argument-parser's error listing the allowed values.
extension TokenizerKind: ExpressibleByArgument {}

extension DatasetFormat: ExpressibleByArgument {
    /// Names are matched ignoring case, as `vlp data` always has.
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}
