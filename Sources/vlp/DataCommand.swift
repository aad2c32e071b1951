import ArgumentParser
import Foundation
import VLP

/// `vlp data …`: make, look into, convert and filter datasets.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Datasets: generate the built-in corpus, inspect, convert, filter and download web data.",
        subcommands: [DataSynthCommand.self, DataInspectCommand.self, DataConvertCommand.self, DataFilterCommand.self,
                      DataDownloadCommand.self]
    )
}

/// Encoded image bytes for writers: PNG through the Vision encoder.
func pngEncode(_ image: RGBImage) throws -> Data { try ScenesWriter.png(image) }
