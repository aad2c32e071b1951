import ArgumentParser
import VLP

// The library's closed sets, as command-line option values: parsed once at the boundary, with
// swift-argument-parser's error listing the allowed values. (`Device` options parse with
// `transform: Device.init(parsing:)`, whose error says what a device looks like.)
extension TokenizerKind: ExpressibleByArgument {}

extension DatasetFormat: ExpressibleByArgument {}
