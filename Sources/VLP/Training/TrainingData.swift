import Foundation

/// Turns a `data:` section into what the loader needs: the samples' source, and the transform
/// that tokenizes (and masks) texts and prepares images at the model's size.
public enum TrainingData {
    /// The samples of a built-in Scenes section, rendered at `imageSize`; nil for datasets on disk.
    public static func scenesSamples(_ config: TrainingDataConfig, imageSize: Int) throws -> [Sample]? {
        guard case .scenes(let size, let seed, let languages, let set, let split) = config.source else { return nil }
        let corpus = try ScenesCorpus(seed: seed, imageSize: max(16, imageSize), languages: languages)
        guard let scenesSet = ScenesSet(rawValue: set), let dataSplit = DataSplit(rawValue: split) else {
            throw ConfigError("data: unknown scenes set \(set) or split \(split)")
        }
        return corpus.samples(scenesSet, count: size, split: dataSplit)
    }

    public static func source(_ config: TrainingDataConfig, imageSize: Int) throws -> DataSource {
        if let samples = try scenesSamples(config, imageSize: imageSize) {
            return try DataSource.samples(samples, perUnit: 256)
        }
        guard case .dataset(let path, let format, let split) = config.source else { throw ConfigError("data: no source") }
        return try DataSource.dataset(at: path, format: format.flatMap(DatasetFormat.init(rawValue:)), part: split)
    }

    public static func tokenizer(_ config: TrainingDataConfig) throws -> BertTokenizer {
        do { return try BertTokenizer(vocabularyFile: config.vocabulary) } catch {
            throw ConfigError("data.vocabulary: \(error) (the project's vocabulary comes with `make assets`)")
        }
    }

    /// How evaluation during training prepares inputs: the run's tokenizer and context length,
    /// CLIP's evaluation preprocessing at the model's size — what the checkpoint bundle records.
    public static func inputs(_ config: TrainingDataConfig, imageSize: Int) throws -> InputPipeline {
        InputPipeline(tokenizer: try tokenizer(config), contextLength: config.contextLength,
                      images: try ImagePipeline.clipEvaluation(size: imageSize), imageSize: imageSize)
    }

    /// Images resized and centre-cropped (or randomly resized-cropped with `augment`) to the
    /// model's size with CLIP normalisation; texts tokenized to `context_length`, masked for MLM
    /// when `masking` is on. `evaluation` takes each sample's first positive text.
    public static func transform(_ config: TrainingDataConfig, imageSize: Int, masking: Bool,
                                 evaluation: Bool = false) throws -> SampleTransform {
        let tokenizer = try tokenizer(config)
        let image = config.augment && !evaluation ? try ImagePipeline.clipTraining(size: imageSize)
                                                  : try ImagePipeline.clipEvaluation(size: imageSize)
        let masker = masking ? SampleTransform.Masking(masker: try TokenMasker(tokenizer: tokenizer, ratio: config.maskRatio)) : nil
        let text = try SampleTransform.TextOptions(
            tokenizer: tokenizer, contextLength: config.contextLength, choice: evaluation ? .firstPositive : .randomPositive,
            kinds: config.textKinds.map { Set($0.compactMap(TextKind.init(rawValue:))) },
            languages: config.languages.map(Set.init), masking: masker, includesNegatives: config.includeNegatives)
        return SampleTransform(image: image, text: text)
    }
}
