import ArgumentParser
import Foundation
import VLP

/// `vlp data …`: make, look into, convert and filter datasets.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Datasets: generate the built-in corpus, inspect, convert, filter web data.",
        subcommands: [DataSynthCommand.self, DataInspectCommand.self, DataConvertCommand.self, DataFilterCommand.self]
    )
}

/// Parses a format name given on the command line.
func parseDatasetFormat(_ name: String) throws -> DatasetFormat {
    guard let format = DatasetFormat(rawValue: name.lowercased()) else {
        throw ValidationError("unknown format \"\(name)\"; one of: \(DatasetFormat.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return format
}

/// Encoded image bytes for writers: PNG through the Vision encoder.
func pngEncode(_ image: RGBImage) throws -> Data { try ScenesWriter.png(image) }
