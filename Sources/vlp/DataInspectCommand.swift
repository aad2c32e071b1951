import ArgumentParser
import Foundation
import VLP

struct DataInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Count samples, images, texts and bad records; text length and image size statistics."
    )

    @Argument(help: "A dataset file, folder or brace pattern of shards.")
    var path: String

    @Option(help: "Format (detected when omitted): \(DatasetFormat.allCases.map(\.rawValue).joined(separator: ", ")).", transform: datasetFormat)
    var format: DatasetFormat?

    @Option(help: "Image folder (flickr) or image root (jsonl).")
    var images: String?

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Statistics per part (split / shard group) as well as in total.")
    var perPart = false

    func run() throws {
        let options = DatasetFormat.Options(imageFolder: images, imageRoot: images)
        let parts = try DatasetFormat.open(path, format: format, options: options)
        var perPartStats: [(String, DataStatistics)] = []
        if perPart {
            for part in try DatasetFormat.open(path, format: format, options: options) {
                perPartStats.append((part.name, try DataStatistics.gather([part])))
            }
        }
        let total = try DataStatistics.gather(parts)
        if json {
            struct Report: Encodable {
                var path: String
                var parts: [String]
                var total: DataStatistics
                var perPart: [String: DataStatistics]?
            }
            let report = Report(path: path, parts: parts.map(\.name), total: total,
                                perPart: perPart ? Dictionary(uniqueKeysWithValues: perPartStats) : nil)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print("\(path): \(parts.count) part\(parts.count == 1 ? "" : "s") (\(parts.map(\.name).joined(separator: ", ")))")
        for (name, stats) in perPartStats {
            print("[\(name)] samples \(stats.samples), texts \(stats.texts), skipped \(stats.skipped)")
        }
        print(Self.describe(total))
    }

    static func describe(_ s: DataStatistics) -> String {
        func counts(_ d: [String: Int]) -> String {
            d.isEmpty ? "-" : d.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        func summary(_ m: DataStatistics.Summary) -> String {
            m.count == 0 ? "-" : "min \(m.min), median \(m.median), mean \(String(format: "%.1f", m.mean)), max \(m.max)"
        }
        var lines = [
            "samples:        \(s.samples)",
            "images:         \(s.images) (\(s.distinctImages) distinct; formats: \(counts(s.imageFormats)))",
            "texts:          \(s.texts)",
            "bad (skipped):  \(s.skipped)",
            "texts by kind:  \(counts(s.textsByKind))",
            "by language:    \(counts(s.textsByLanguage))",
            "by role:        \(counts(s.textsByRole))",
            "labels:         \(counts(s.labels))",
            "text length:    \(summary(s.textLength)) characters",
            "image width:    \(summary(s.imageWidth))",
            "image height:   \(summary(s.imageHeight))",
        ]
        if s.imagesOfUnknownSize > 0 { lines.append("unknown size:   \(s.imagesOfUnknownSize) images") }
        if !s.skipExamples.isEmpty {
            lines.append("first skips:")
            lines += s.skipExamples.map { "  " + $0 }
        }
        return lines.joined(separator: "\n")
    }
}
