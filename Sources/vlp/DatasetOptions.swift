import ArgumentParser
import VLP

/// `--format` and `--split`: how a command reads a dataset that is one path.
struct DatasetOptions: ParsableArguments {
    @Option(help: "Dataset format when it cannot be detected: \(DatasetFormat.allCases.map(\.rawValue).joined(separator: ", ")).", transform: datasetFormat)
    var format: DatasetFormat?

    @Option(help: "The part of a dataset holding several (a Chinese-CLIP folder's train, valid or test; `vlp data inspect` lists them).")
    var split: String?
}
