import ArgumentParser
import Foundation
import VLP

/// `vlp data filter`: the web-data cleaning of ImageBERT's LAIT pipeline and ALIGN's filtering,
/// part by part (splits keep their names, as with convert). The defaults are `FilterRules()`'s:
/// ALIGN's image rules (shorter side ≥ 200 px, aspect ratio ≤ 3), alt-texts on more than 10
/// images dropped, 3–20 words, and LAIT's cleaning, noise heuristics and vocabulary rate (0.9);
/// `FilterRules` says where each number comes from. Every numeric rule is off at 0.
struct DataFilterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Filter web image–text data: image size and shape, text cleaning, length, vocabulary rate, shared alt-texts, optional semantic scoring.",
        discussion: """
            Defaults follow ALIGN (shorter side at least 200 px, aspect ratio at most 3, texts on more than 10 \
            images dropped, 3 to 20 words) and LAIT (text cleaning, noise heuristics, vocabulary rate 0.9); \
            LAIT's image rule is --min-side 300. Numeric rules are off at 0. With --checkpoint, a trained \
            swift-vlp model's towers score each text against its image: --min-similarity drops texts below a \
            cosine, --keep-best K keeps the K best texts per image (1, LAIT's choice, when neither is given). \
            Hard-negative texts are kept untouched unless their image is dropped. The frequency rule reads \
            each part twice.
            """
    )

    @Argument(help: "Input dataset (file, folder or brace pattern).")
    var input: String

    @Argument(help: "Output folder.")
    var output: String

    @Option(help: "Input format (detected when omitted).", transform: datasetFormat)
    var from: DatasetFormat?

    @Option(help: "Output format (default: the input's): \(DatasetFormat.allCases.map(\.rawValue).joined(separator: ", ")).", transform: datasetFormat)
    var to: DatasetFormat?

    @Option(help: "Image folder (flickr input) or image root (jsonl input).")
    var images: String?

    @Option(help: "WebDataset samples per shard.")
    var samplesPerShard = 1000

    @Option(help: "With an imagefolder output: class names in label order, comma-separated, naming the class folders (needed for idx input; characters a folder name cannot hold become _).")
    var classes: String?

    @Option(help: "Drop images whose shorter side is below this many pixels (ALIGN 200, LAIT 300; 0: off).")
    var minSide = FilterRules().minImageSide ?? 0

    @Option(help: "Drop images whose long side / short side is above this (ALIGN 3; 0: off).")
    var maxAspect = FilterRules().maxAspectRatio ?? 0

    @Flag(help: "Decode every image to catch corrupt data behind a good header (slower; sizes come from headers otherwise).")
    var decodeImages = false

    @Option(help: "Drop texts carried by more than this many distinct images of a part (ALIGN 10; 0: off).")
    var maxImagesPerText = FilterRules().maxImagesPerText ?? 0

    @Option(help: "Drop texts with fewer words, counted with jieba (ALIGN 3; 0: off).")
    var minWords = FilterRules().minWords ?? 0

    @Option(help: "Drop texts with more words (ALIGN 20; 0: off).")
    var maxWords = FilterRules().maxWords ?? 0

    @Option(help: "Drop texts with fewer characters after cleaning (0: off).")
    var minChars = 0

    @Option(help: "Drop texts with more characters after cleaning (0: off).")
    var maxChars = 0

    @Option(help: "Drop texts whose share of non-[UNK] WordPiece tokens (Chinese-CLIP vocabulary) is below this (0: off).")
    var minVocabularyRate = FilterRules().minVocabularyRate ?? 0

    @Option(help: "Drop texts holding any line of this file (ignoring case): spam and adult words.")
    var blocklist: String?

    @Flag(help: "Judge and write texts as read: no removal of HTML, URLs and extra whitespace.")
    var noCleaning = false

    @Flag(help: "Keep texts the noise heuristics would drop (no letters, camera file names, repeats).")
    var keepNoisy = false

    @Option(help: "A trained swift-vlp checkpoint (run or step folder) whose towers score image–text pairs.")
    var checkpoint: String?

    @Option(help: "With --checkpoint: drop texts whose image–text cosine is below this.")
    var minSimilarity: Float?

    @Option(help: "With --checkpoint: keep only the K best-scoring texts of each image (default 1 without --min-similarity).")
    var keepBest: Int?

    @Option(help: "With --checkpoint: images or texts per forward pass.")
    var batchSize = 32

    @Flag(help: "Print the reports as JSON.")
    var json = false

    func validate() throws {
        func offOrPositive<N: Comparable & Numeric>(_ value: N, _ name: String, _ unit: String) throws {
            guard value >= 0 else { throw ValidationError("--\(name) must be 0 (off) or a positive \(unit), not \(value)") }
        }
        try offOrPositive(minSide, "min-side", "number of pixels")
        try offOrPositive(maxImagesPerText, "max-images-per-text", "number of images")
        try offOrPositive(minWords, "min-words", "number of words")
        try offOrPositive(maxWords, "max-words", "number of words")
        try offOrPositive(minChars, "min-chars", "number of characters")
        try offOrPositive(maxChars, "max-chars", "number of characters")
        guard maxAspect == 0 || (maxAspect >= 1 && maxAspect.isFinite) else {
            throw ValidationError("--max-aspect is long side / short side: 0 (off) or at least 1, not \(maxAspect)")
        }
        guard minVocabularyRate >= 0 && minVocabularyRate <= 1 else {
            throw ValidationError("--min-vocabulary-rate is a share of tokens, in [0, 1] (0: off), not \(minVocabularyRate)")
        }
        if minWords > 0 && maxWords > 0 && minWords > maxWords {
            throw ValidationError("--min-words (\(minWords)) is above --max-words (\(maxWords))")
        }
        if minChars > 0 && maxChars > 0 && minChars > maxChars {
            throw ValidationError("--min-chars (\(minChars)) is above --max-chars (\(maxChars))")
        }
        if checkpoint == nil {
            if minSimilarity != nil { throw ValidationError("--min-similarity needs --checkpoint (the model that scores the pairs)") }
            if keepBest != nil { throw ValidationError("--keep-best needs --checkpoint (the model that scores the pairs)") }
        }
        if let minSimilarity, !(minSimilarity >= -1 && minSimilarity <= 1) {
            throw ValidationError("--min-similarity is a cosine, in [-1, 1], not \(minSimilarity)")
        }
        if let keepBest, keepBest < 1 { throw ValidationError("--keep-best must be at least 1, not \(keepBest)") }
        guard samplesPerShard > 0 else { throw ValidationError("--samples-per-shard must be positive") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        let inputPath = URL(fileURLWithPath: input).standardizedFileURL.path
        let outputPath = URL(fileURLWithPath: output).standardizedFileURL.path
        if outputPath == inputPath || outputPath.hasPrefix(inputPath + "/") {
            throw ValidationError("the output folder \(output) is the input or inside it; choose another folder")
        }
    }

    /// The rules the options ask for.
    func rules() throws -> FilterRules {
        var rules = FilterRules()
        rules.minImageSide = minSide > 0 ? minSide : nil
        rules.maxAspectRatio = maxAspect > 0 ? maxAspect : nil
        rules.decodesImages = decodeImages
        rules.maxImagesPerText = maxImagesPerText > 0 ? maxImagesPerText : nil
        rules.minWords = minWords > 0 ? minWords : nil
        rules.maxWords = maxWords > 0 ? maxWords : nil
        rules.minCharacters = minChars > 0 ? minChars : nil
        rules.maxCharacters = maxChars > 0 ? maxChars : nil
        rules.minVocabularyRate = minVocabularyRate > 0 ? minVocabularyRate : nil
        rules.cleansTexts = !noCleaning
        rules.dropsNoisyTexts = !keepNoisy
        if let blocklist {
            guard let data = FileManager.default.contents(atPath: blocklist) else {
                throw ValidationError("--blocklist \(blocklist): cannot read the file")
            }
            rules.blockedWords = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !rules.blockedWords.isEmpty else { throw ValidationError("--blocklist \(blocklist) holds no words") }
        }
        if checkpoint != nil {
            rules.minSimilarity = minSimilarity
            rules.keepBest = keepBest ?? (minSimilarity == nil ? 1 : nil)
        }
        do { try rules.validate() } catch { throw ValidationError("\(error)") }
        return rules
    }

    func run() throws {
        let rules = try rules()
        let scorer = try checkpoint.map { try CheckpointScorer(checkpoint: $0, batchSize: batchSize) }
        let filter = try DataFilter(rules: rules, scorer: scorer)
        let inputFormat = from
        let names = try classNameList(classes)
        let options = DatasetFormat.Options(imageFolder: images, imageRoot: images)
        var reports: [FilterReport] = []
        for part in try DatasetFormat.open(input, format: inputFormat, options: options) {
            guard let target = to ?? Self.format(of: part.reader) else {
                throw ValidationError("cannot tell the format of part \(part.name) to write it in; pass --to")
            }
            let classNames = try outputClassNames(reading: part.reader, part: part.name, writing: target, classes: names)
            let writer = try target.writer(folder: output, part: part.name, encode: pngEncode,
                                           classNames: classNames, samplesPerShard: samplesPerShard)
            // The part as opened above for the first pass, a fresh reader of it for the second.
            var unread: SampleReader? = part.reader
            let report = try filter.filter(part: part.name, open: {
                if let reader = unread { unread = nil; return reader }
                return try DatasetFormat.openPart(input, format: inputFormat, part: part.name, options: options).reader
            }, into: writer)
            reports.append(report)
            if !json { print(report.summary) }
        }
        if json {
            struct Output: Encodable {
                var input: String
                var output: String
                var rules: FilterRules
                var parts: [FilterReport]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(Output(input: input, output: output, rules: rules, parts: reports)), as: UTF8.self))
        } else {
            print("written to \(output)")
        }
    }

    /// The format a reader reads, to write a part back in the same one.
    static func format(of reader: SampleReader) -> DatasetFormat? {
        switch reader {
        case is ZeroJSONL.Reader: return .jsonl
        case is ChineseCLIP.Reader: return .cnclip
        case is WebDataset.Reader: return .webdataset
        case is FlickrCaptions.Reader: return .flickr
        case is ImageFolderLabels.Reader: return .imagefolder
        case is IDXLabels.Reader: return .idx
        default: return nil
        }
    }
}
