import ArgumentParser
import Foundation
import VLP

struct DataConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Rewrite a dataset in another format, part by part (splits keep their names).",
        discussion: "Bad records are skipped and counted, as inspect reports them."
    )

    @Option(help: "Input format (detected when omitted).", transform: datasetFormat)
    var from: DatasetFormat?

    @Option(help: "Output format: \(DatasetFormat.allCases.map(\.rawValue).joined(separator: ", ")).", transform: datasetFormat)
    var to: DatasetFormat

    @Option(help: "Image folder (flickr input) or image root (jsonl input).")
    var images: String?

    @Option(help: "WebDataset samples per shard.")
    var samplesPerShard = 1000

    @Option(help: "With --to imagefolder: class names in label order, comma-separated, naming the class folders (needed for idx input; characters a folder name cannot hold become _).")
    var classes: String?

    @Argument(help: "Input dataset (file, folder or brace pattern).")
    var input: String

    @Argument(help: "Output folder.")
    var output: String

    func validate() throws {
        guard samplesPerShard > 0 else { throw ValidationError("--samples-per-shard must be positive") }
    }

    func run() throws {
        let target = to
        let names = try classNameList(classes)
        let parts = try DatasetFormat.open(input, format: from,
                                           options: DatasetFormat.Options(imageFolder: images, imageRoot: images))
        for part in parts {
            let classNames = try outputClassNames(reading: part.reader, part: part.name, writing: target, classes: names)
            let writer = try target.writer(folder: output, part: part.name, encode: pngEncode,
                                           classNames: classNames, samplesPerShard: samplesPerShard)
            var count = 0
            while let sample = try part.reader.next() {
                try writer.write(sample)
                count += 1
            }
            try writer.finish()
            let skipped = part.reader.skipped
            print("\(part.name): \(count) samples written, \(skipped.count) skipped")
            for skip in skipped.prefix(5) { print("  \(skip)") }
        }
    }
}
