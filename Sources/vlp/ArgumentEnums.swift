import ArgumentParser
import VLP

// The library's closed sets, as command-line option values: parsed once at the boundary, with
// swift-argument-parser's error listing the allowed values.
extension TokenizerKind: ExpressibleByArgument {}
