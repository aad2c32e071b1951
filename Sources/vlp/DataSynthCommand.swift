import ArgumentParser
import Foundation
import VLP

struct DataSynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write the built-in bilingual Scenes corpus (pretraining + ICM/IQM/ICR/IQR sets).",
        discussion: """
        Images of 1–4 coloured shapes with Chinese and English titles, content sentences and
        queries, paraphrases and rewritten hard negatives; splits 8:1:1. The same seed always
        writes the same bytes.
        """
    )

    @Option(help: "Output folder.")
    var out: String

    @Option(help: "Format: webdataset, jsonl or cnclip.", transform: datasetFormat)
    var format: DatasetFormat = .webdataset

    @Option(help: "Pretraining images.")
    var size = 1000

    @Option(help: "Images in each downstream set (default: size / 4, at least 10).")
    var downstreamSize: Int?

    @Option(help: "Languages, comma-separated: zh, en.")
    var lang = "zh,en"

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    @Option(help: "Image side in pixels.")
    var imageSize = 64

    @Option(help: "WebDataset samples per shard.")
    var samplesPerShard = 1000

    @Flag(help: "Also write each image's detector regions (boxes, shape classes, 4×4 RGB features) into <set>/regions/, for ImageBERT's MOC (data key regions:).")
    var regions = false

    func validate() throws {
        guard size >= 0 else { throw ValidationError("--size must not be negative") }
        guard imageSize >= 16 else { throw ValidationError("--image-size must be at least 16") }
        guard samplesPerShard > 0 else { throw ValidationError("--samples-per-shard must be positive") }
        guard [.webdataset, .jsonl, .cnclip].contains(format) else {
            throw ValidationError("synth writes webdataset, jsonl or cnclip")
        }
    }

    func run() throws {
        let languages = lang.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let corpus = try ScenesCorpus(seed: seed, imageSize: imageSize, languages: languages)
        var writer = try ScenesWriter(corpus: corpus, format: format,
                                      samplesPerShard: samplesPerShard, encode: pngEncode)
        writer.writesRegions = regions
        let downstream = downstreamSize ?? max(10, size / 4)
        let manifest = try writer.write(to: out, size: size, downstreamSize: downstream)
        for part in manifest.parts {
            print("\(part.set)/\(part.split): \(part.samples) samples")
        }
        print("wrote \(out)/manifest.json")
    }
}
