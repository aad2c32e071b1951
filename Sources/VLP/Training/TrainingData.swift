import Foundation

/// Turns a `TrainingDataDescription` into what the loader needs: the samples' source, and the
/// transform that tokenizes (and masks) texts and prepares images at the model's size.
public enum TrainingData {
    /// The samples of a built-in Scenes section, rendered at `imageSize`; nil for data on disk.
    public static func scenesSamples(_ data: TrainingDataDescription, imageSize: Int) throws -> [Sample]? {
        guard case .scenes(let size, let seed, let languages, let set, let split) = data.source else { return nil }
        let corpus = try ScenesCorpus(seed: seed, imageSize: max(16, imageSize), languages: languages)
        let samples = corpus.samples(set, count: size, split: split)
        guard data.retrievedNegatives > 0 else { return samples }
        return RetrievedNegatives.attach(to: samples, count: data.retrievedNegatives, segmenter: try JiebaSegmenter.shared())
    }

    public static func source(_ data: TrainingDataDescription, imageSize: Int) throws -> DataSource {
        switch data.source {
        case .scenes:
            guard let samples = try scenesSamples(data, imageSize: imageSize) else { throw ConfigError("data: not a scenes source") }
            return try DataSource.samples(samples, perUnit: 256)
        case .dataset(let path, let format, let split, _):
            return try DataSource.dataset(at: path, format: format, part: split)
        case .labelledImages(let path, let format, let split, let prompts, let classes):
            // Opened once here so that a wrong path, split or class list fails before training starts.
            _ = try labelledImages(path: path, format: format, split: split, prompts: prompts, classes: classes)
            return try DataSource(units: [path]) { unit in
                try labelledImages(path: unit, format: format, split: split, prompts: prompts, classes: classes)
            }
        }
    }

    /// The samples of a labelled image set with captions from the class-prompt templates.
    public static func labelledImages(path: String, format: DatasetFormat?, split: String?, prompts: PromptTemplates,
                                      classes: ClassNames?) throws -> PromptedLabelReader {
        let part = try DatasetFormat.openPart(path, format: format, part: split)
        let names: ClassNames
        if let classes {
            names = classes
        } else if let folders = part.reader as? ImageFolderLabels.Reader {
            // One folder per class: its name serves in every language the templates have.
            names = ClassNames(byLanguage: Dictionary(uniqueKeysWithValues: prompts.byLanguage.keys.map { ($0, folders.classNames) }))
        } else {
            throw ConfigError("data.classes: the labels of \(path) are numbers; name the classes (classes: {en: [NAME, …], zh: […]} in label order, or classes: fashion-mnist)")
        }
        return PromptedLabelReader(part.reader, classNames: names, templates: prompts)
    }

    /// The run's tokenizer (`data.tokenizer` reading `data.vocabulary`).
    public static func tokenizer(_ data: TrainingDataDescription) throws -> any TextTokenizer {
        do { return try data.tokenizer.load(file: data.vocabularyFile) } catch {
            throw ConfigError("data.vocabulary: \(error) (the project's vocabularies come with `make assets`)")
        }
    }

    /// The run's tokenizer as a BERT tokenizer (masking and evaluation sets need its `[MASK]`
    /// and padding ids); an error naming the kind for CLIP's BPE.
    public static func bertTokenizer(_ data: TrainingDataDescription) throws -> BertTokenizer {
        do { return try data.tokenizer.loadBert(file: data.vocabularyFile) } catch {
            throw ConfigError("data.tokenizer \(data.tokenizer.rawValue), vocabulary \(data.vocabularyFile): \(error) (the project's vocabularies come with `make assets`)")
        }
    }

    /// How evaluation during training prepares inputs for a model of `configuration`: the run's
    /// tokenizer and context length, resize + centre crop to the image tower's size with the
    /// statistics it expects — what the checkpoint bundle records.
    public static func inputs(_ data: TrainingDataDescription, for configuration: VLPModelConfiguration) throws -> InputPipeline {
        let size = configuration.vision.imageSize
        let images = ModelPreprocessing.Image(size: size, resize: data.imageResize, normalization: configuration.vision.inputNormalization)
        return InputPipeline(tokenizer: try tokenizer(data), contextLength: data.contextLength, images: try images.pipeline(), imageSize: size)
    }

    /// Images resized and centre-cropped (or randomly resized-cropped with `augment`) to the
    /// model's size with `normalization` (CLIP's for a ViT; the image tower's own statistics);
    /// texts tokenized to `context_length`, masked for MLM when `masking` is on. `evaluation`
    /// takes each sample's first positive text.
    public static func transform(_ data: TrainingDataDescription, imageSize: Int, normalization: Normalization = .clip,
                                 masking: Bool, evaluation: Bool = false) throws -> SampleTransform {
        let image = data.augment && !evaluation
            ? try ImagePipeline.clipTraining(size: imageSize, normalization: normalization)
            : try ModelPreprocessing.Image(size: imageSize, resize: data.imageResize, normalization: normalization).pipeline()
        let tokenizer: any TextTokenizer
        var masker: SampleTransform.Masking?
        if masking {
            let bert = try bertTokenizer(data)
            (tokenizer, masker) = (bert, SampleTransform.Masking(masker: try TokenMasker(tokenizer: bert, ratio: data.maskRatio),
                                                                 segmenter: data.wholeWordMasking ? try JiebaSegmenter.shared() : nil))
        } else {
            tokenizer = try self.tokenizer(data)
        }
        let text = try SampleTransform.TextOptions(
            tokenizer: tokenizer, contextLength: data.contextLength, choice: evaluation ? .firstPositive : .randomPositive,
            kinds: data.textKinds.map(Set.init), languages: data.languageFilter.map(Set.init), masking: masker,
            includesNegatives: data.includeNegatives, rewrites: evaluation ? 0 : data.rewrites)
        return SampleTransform(image: image, text: text, regions: data.regions.map { RegionFiles(folder: URL(fileURLWithPath: $0)) })
    }
}
