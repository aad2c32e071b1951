import Foundation
import Torch

/// Images and texts prepared once for evaluation: every image as a tensor, every text
/// tokenized, which image each text belongs to, and (matching sets) each text's match label.
public struct EvaluationSet {
    public var name: String
    /// [N, 3, H, W], prepared by the model's image pipeline.
    public var images: Tensor
    /// The decoded images (before resizing), kept for reports.
    public var rawImages: [RGBImage]
    public var sampleIDs: [String]
    public var texts: [String]
    /// The texts tokenized, [T, L], padded to the longest.
    public var text: TextBatch
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
    /// Per image: its detector regions, for single-stream models that read them instead of
    /// pixel patches (`withRegions`); nil otherwise.
    public var regions: RegionBatch? = nil

    public var imageCount: Int { sampleIDs.count }
    /// int64 [T, L] (`text`'s).
    public var inputIDs: Tensor { text.inputIDs }
    public var attentionMask: Tensor { text.attentionMask }

    /// Builds the set from samples through the loader's own transform (`SampleTransform`: one
    /// decode path, one rule for which texts are candidates), with the inputs prepared by
    /// `inputs` (the model's tokenizer, context length and image preprocessing). Every candidate
    /// text of a sample comes in — the positives of the allowed kinds and languages, and with
    /// `includeNegatives` its hard negatives too. A sample whose label is 0 (a matching set's
    /// mismatched pair) gives label 0 to all its texts; a label set's sample comes in without texts.
    public static func make(name: String, samples: [Sample], inputs: InputPipeline,
                            kinds: Set<TextKind>? = nil, languages: Set<String>? = nil, includeNegatives: Bool = false) throws -> EvaluationSet {
        let transform = SampleTransform(image: inputs.images, text: try .init(
            tokenizer: inputs.tokenizer, contextLength: inputs.contextLength, choice: .firstPositive, kinds: kinds, languages: languages,
            includesNegatives: includeNegatives))
        let imageSize = inputs.imageSize
        var pixels: [Float] = [], raws: [RGBImage] = [], ids: [String] = [], texts: [String] = []
        var tokenized: [TokenizedText] = [], textImage: [Int] = [], labels: [Int] = [], kindsOut: [RewriteKind?] = [], classes: [Int?] = []
        var textLanguages: [String?] = []
        var rng = SplitMix64(seed: 0)
        for sample in samples {
            let chosen = transform.candidateTexts(of: sample)
            guard !chosen.isEmpty || sample.label != nil else { continue }
            let raw: RGBImage
            switch transform.decodedImage(of: sample, source: name) {
            case .success(let decoded): raw = decoded.image
            case .failure(let problem): throw EvaluationError.unusableSample(set: name, sample: sample.id, reason: problem.detail)
            }
            let index = ids.count
            pixels += try inputs.images(raw, using: &rng).values
            raws.append(raw)
            ids.append(sample.id)
            classes.append(sample.label)
            for text in chosen {
                texts.append(text.text)
                tokenized.append(try inputs.encode(text.text))
                textImage.append(index)
                textLanguages.append(text.language)
                if case .hardNegative(let kind) = text.role { kindsOut.append(kind) } else { kindsOut.append(nil) }
                labels.append(!text.role.isPositive || sample.label == 0 ? 0 : 1)
            }
        }
        guard !ids.isEmpty else { throw EvaluationError.empty("evaluation set \(name)") }
        let noText = try Tensor.zeros([0, 1], dtype: .int64)
        let text = try tokenized.isEmpty ? TextBatch(inputIDs: noText, attentionMask: noText, tokenTypeIDs: noText)
                                         : TextBatch(tokenized, paddingID: inputs.tokenizer.paddingID)
        return EvaluationSet(name: name, images: try Tensor(pixels, shape: [ids.count, 3, imageSize, imageSize]), rawImages: raws,
                             sampleIDs: ids, texts: texts, text: text,
                             textImage: textImage, labels: labels, rewriteKinds: kindsOut, classLabels: classes,
                             textLanguages: textLanguages)
    }

    /// A `data:` section as an evaluation set for a model of `configuration`, prepared the way
    /// training prepares it (evaluation during a run, the demo).
    public static func load(_ data: TrainingDataDescription, for configuration: VLPModelConfiguration,
                            includeNegatives: Bool = false) throws -> EvaluationSet {
        try load(data, inputs: TrainingData.inputs(data, for: configuration), includeNegatives: includeNegatives)
    }

    /// A `data:` section's samples as an evaluation set (positives only; matching sets with their
    /// labels), prepared by `inputs` — a model bundle's, when evaluating a saved model; the
    /// section's own tokenizer and context length are not used then.
    public static func load(_ data: TrainingDataDescription, inputs: InputPipeline, includeNegatives: Bool = false) throws -> EvaluationSet {
        let imageSize = inputs.imageSize
        let samples: [Sample]
        switch data.source {
        case .scenes:
            samples = try TrainingData.scenesSamples(data, imageSize: imageSize) ?? []
        case .dataset(let path, let format, let split, _):
            samples = try DatasetFormat.openPart(path, format: format, part: split).reader.readAll()
        case .labelledImages(let path, let format, let split, let prompts, let classes):
            samples = try TrainingData.labelledImages(path: path, format: format, split: split, prompts: prompts, classes: classes).readAll()
        }
        let set = try make(name: data.name, samples: samples, inputs: inputs, kinds: data.textKinds.map(Set.init),
                           languages: data.languageFilter.map(Set.init), includeNegatives: includeNegatives)
        return try data.regions.map { try set.withRegions(from: RegionFiles(folder: URL(fileURLWithPath: $0))) } ?? set
    }

    /// The set with every image's detector regions read from `files`; a missing or malformed
    /// file is an error naming it (an evaluation must not silently leave images out).
    public func withRegions(from files: RegionFiles) throws -> EvaluationSet {
        var copy = self
        copy.regions = try RegionBatch(try sampleIDs.map { try files.read($0) }, sampleIDs: sampleIDs)
        return copy
    }
}
