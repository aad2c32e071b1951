import Foundation
import Torch

/// Images and texts prepared once for evaluation: every image as a tensor, every text
/// tokenized, which image each text belongs to, and (matching sets) each text's match label.
public struct EvaluationSet {
    public var name: String
    /// [N, 3, H, W], CLIP-normalised at the model's size.
    public var images: Tensor
    /// The decoded images (before resizing), kept for reports.
    public var rawImages: [RGBImage]
    public var sampleIDs: [String]
    public var texts: [String]
    /// int64 [T, L].
    public var inputIDs: Tensor
    public var attentionMask: Tensor
    /// textImage[j]: the index of text j's image.
    public var textImage: [Int]
    /// Per text: 1 when it describes its image, 0 when it is a hard negative / mismatched text.
    public var labels: [Int]
    /// Per text: the rewrite kind of a hard negative (nil for positives).
    public var rewriteKinds: [RewriteKind?]
    /// Per image: a class index, for label sets.
    public var classLabels: [Int?]
    /// Per text: its language tag, when known.
    public var textLanguages: [String?]

    public var imageCount: Int { sampleIDs.count }

    /// Builds the set from samples. Positive texts (filtered by kinds and languages) always
    /// come in; hard negatives only with `includeNegatives`. A sample whose label is 0 (a matching
    /// set's mismatched pair) gives label 0 to all its texts.
    public static func make(name: String, samples: [Sample], tokenizer: BertTokenizer, contextLength: Int, imageSize: Int,
                            kinds: Set<TextKind>? = nil, languages: Set<String>? = nil, includeNegatives: Bool = false) throws -> EvaluationSet {
        let pipeline = try ImagePipeline.clipEvaluation(size: imageSize)
        let decoder = ImageDecoder()
        var pixels: [Float] = [], raws: [RGBImage] = [], ids: [String] = [], texts: [String] = []
        var tokenized: [TokenizedText] = [], textImage: [Int] = [], labels: [Int] = [], kindsOut: [RewriteKind?] = [], classes: [Int?] = []
        var textLanguages: [String?] = []
        var rng = SplitMix64(seed: 0)
        for sample in samples {
            let raw: RGBImage
            switch sample.image {
            case .pixels(let image)?: raw = image
            case .encoded(let data)?: raw = try decoder.decode(data, source: sample.id)
            case .file(let path)?: raw = try decoder.decode(contentsOf: path)
            case nil: throw DatasetError.missingImage(sample: sample.id)
            }
            let chosen = sample.texts.filter { text in
                (includeNegatives || text.role.isPositive) && !text.text.isEmpty
                    && (kinds?.contains(text.kind) ?? true) && (languages == nil || text.language.map { languages!.contains($0) } ?? true)
            }
            guard !chosen.isEmpty || sample.label != nil else { continue }
            let index = ids.count
            pixels += try pipeline(raw, using: &rng).values
            raws.append(raw)
            ids.append(sample.id)
            classes.append(sample.label)
            for text in chosen {
                texts.append(text.text)
                tokenized.append(try tokenizer.encode(text.text, maxLength: contextLength))
                textImage.append(index)
                textLanguages.append(text.language)
                let isNegative: Bool
                if case .hardNegative(let kind) = text.role { kindsOut.append(kind); isNegative = true } else { kindsOut.append(nil); isNegative = false }
                labels.append(isNegative || sample.label == 0 ? 0 : 1)
            }
        }
        guard !ids.isEmpty else { throw EvaluationError.empty("evaluation set \(name)") }
        let batch = try tokenized.isEmpty ? nil : TextBatch(tokenized, paddingID: tokenizer.paddingID)
        return EvaluationSet(name: name, images: try Tensor(pixels, shape: [ids.count, 3, imageSize, imageSize]), rawImages: raws,
                             sampleIDs: ids, texts: texts,
                             inputIDs: try batch?.inputIDs ?? Tensor.zeros([0, 1], dtype: .int64),
                             attentionMask: try batch?.attentionMask ?? Tensor.zeros([0, 1], dtype: .int64),
                             textImage: textImage, labels: labels, rewriteKinds: kindsOut, classLabels: classes,
                             textLanguages: textLanguages)
    }

    /// A `data:` section as an evaluation set (positives only; matching sets with their labels).
    public static func load(_ data: TrainingDataDescription, imageSize: Int, includeNegatives: Bool = false) throws -> EvaluationSet {
        let samples: [Sample]
        switch data.source {
        case .scenes:
            samples = try TrainingData.scenesSamples(data, imageSize: imageSize) ?? []
        case .dataset(let path, let format, let split, _):
            samples = try DatasetFormat.openPart(path, format: format, part: split).reader.readAll()
        case .labelledImages(let path, let format, let split, let prompts, let classes):
            samples = try TrainingData.labelledImages(path: path, format: format, split: split, prompts: prompts, classes: classes).readAll()
        }
        return try make(name: data.name, samples: samples, tokenizer: TrainingData.bertTokenizer(data), contextLength: data.contextLength,
                        imageSize: imageSize, kinds: data.textKinds.map(Set.init),
                        languages: data.languageFilter.map(Set.init), includeNegatives: includeNegatives)
    }
}
