import Foundation

/// Where a run's samples come from and how they become tensors (a run's `data:` section).
///
/// Built with the factories, whose arguments carry the defaults (`.scenes(size: 800)`,
/// `.dataset(path: "zero/")`, `.labelledImages(path: IDXLabels.fashionMNISTFolder, …)`);
/// the text settings (`contextLength`, `tokenizer`, …) are properties with their defaults in
/// `init`. The YAML decoder starts from these same values, so each default is written once.
public struct TrainingDataDescription: Equatable, Sendable {
    public enum Source: Equatable, Sendable {
        /// The built-in Scenes corpus: `size` items (80% train), generated in memory.
        case scenes(size: Int, seed: UInt64, languages: [String], set: ScenesSet, split: DataSplit)
        /// A dataset on disk in a format `DatasetFormat` reads (nil: detected); `split` names
        /// one of its parts (needed when it holds several, e.g. a Chinese-CLIP folder's train /
        /// valid / test; part names are the dataset's own, such as `t10k` or `pretrain/valid`,
        /// so they stay text). `languages` keeps only texts in those languages (nil: all).
        case dataset(path: String, format: DatasetFormat?, split: String?, languages: [String]?)
        /// A labelled image set (idx files or one folder per class) whose samples gain one
        /// caption per template and language with their class name put in (`PromptedLabelReader`).
        /// `classes` nil: an image folder's own folder names, in every language of `prompts`.
        case labelledImages(path: String, format: DatasetFormat?, split: String?, prompts: PromptTemplates, classes: ClassNames?)

        var isScenes: Bool {
            if case .scenes = self { return true }
            return false
        }
    }

    public var source: Source
    /// Token positions per text, special tokens included.
    public var contextLength: Int
    /// Allowed text kinds (nil: all positives).
    public var textKinds: [TextKind]?
    /// Fraction of tokens masked for MLM / FgD / ET.
    public var maskRatio: Double
    /// Whole-word masking: the characters of one jieba word are masked together (RoBERTa-wwm-ext's
    /// Chinese whole-word masking; WordPiece pieces of a word always go together). YAML
    /// `whole_word_masking`, default true.
    public var wholeWordMasking: Bool
    /// How texts become tokens.
    public var tokenizer: TokenizerKind
    /// The tokenizer's vocabulary (or merges) file; nil: the kind's `defaultFile`.
    public var vocabulary: String?
    /// Random resized crops (0.9–1 scale) instead of resizing to the model's square.
    public var augment: Bool
    /// How images are brought to the model's square without `augment`: shortest side + centre
    /// crop, or both sides (Chinese-CLIP's squash; `vlp finetune` takes the model bundle's).
    public var imageResize: ModelPreprocessing.ResizeMode
    /// Hard-negative texts are candidates too (matching sets, with their 0/1 labels).
    public var includeNegatives: Bool
    /// CMCL (UNIMO): each sample brings another positive and this many hard-negative texts (its
    /// rewrites and retrieved captions) beside the chosen text; 0: none. YAML `rewrites`.
    public var rewrites: Int
    /// UNIMO's retrieved negatives: this many captions of other images, the most similar by
    /// TF-IDF, join each sample's hard negatives (`RetrievedNegatives`; the scenes source, whose
    /// samples are in memory). YAML `retrieved_negatives`.
    public var retrievedNegatives: Int
    /// A folder of each sample's precomputed detector regions (`RegionFiles`: features, boxes
    /// and object classes as `.npy`), for single-stream models that take them (ImageBERT's MOC);
    /// nil: none. YAML `regions`.
    public var regions: String?

    public init(source: Source, contextLength: Int = 32, textKinds: [TextKind]? = nil, maskRatio: Double = 0.15,
                tokenizer: TokenizerKind = .bertChinese, vocabulary: String? = nil, augment: Bool = false,
                imageResize: ModelPreprocessing.ResizeMode = .crop, includeNegatives: Bool = false, wholeWordMasking: Bool = true,
                rewrites: Int = 0, retrievedNegatives: Int = 0, regions: String? = nil) {
        self.source = source
        self.contextLength = contextLength
        self.textKinds = textKinds
        self.maskRatio = maskRatio
        self.tokenizer = tokenizer
        self.vocabulary = vocabulary
        self.augment = augment
        self.imageResize = imageResize
        self.includeNegatives = includeNegatives
        self.wholeWordMasking = wholeWordMasking
        self.rewrites = rewrites
        self.retrievedNegatives = retrievedNegatives
        self.regions = regions
    }

    /// The built-in Scenes corpus (`ScenesCorpus`).
    public static func scenes(size: Int = 1000, seed: UInt64 = 7, languages: [String] = ["zh", "en"],
                              set: ScenesSet = .pretrain, split: DataSplit = .train) -> TrainingDataDescription {
        TrainingDataDescription(source: .scenes(size: size, seed: seed, languages: languages, set: set, split: split))
    }

    /// A dataset on disk (`DatasetFormat.open`).
    public static func dataset(path: String, format: DatasetFormat? = nil, split: String? = nil,
                               languages: [String]? = nil) -> TrainingDataDescription {
        TrainingDataDescription(source: .dataset(path: path, format: format, split: split, languages: languages))
    }

    /// A labelled image set turned into captions by class-prompt templates.
    public static func labelledImages(path: String, format: DatasetFormat? = nil, split: String? = nil,
                                      prompts: PromptTemplates = .standard, classes: ClassNames? = nil) -> TrainingDataDescription {
        TrainingDataDescription(source: .labelledImages(path: path, format: format, split: split, prompts: prompts, classes: classes))
    }

    /// The formats a labelled image set can be read from.
    public static let labelledImageFormats: [DatasetFormat] = [.idx, .imagefolder]

    /// The vocabulary file the tokenizer reads.
    public var vocabularyFile: String { vocabulary ?? tokenizer.defaultFile }

    /// The languages texts are kept in (nil: all).
    public var languageFilter: [String]? {
        if case .dataset(_, _, _, let languages) = source { return languages }
        return nil
    }

    /// A short name for reports: `scenes-icr-test`, `fashion-mnist:t10k`.
    public var name: String {
        switch source {
        case .scenes(_, _, _, let set, let split): return "scenes-\(set.rawValue)-\(split.rawValue)"
        case .dataset(let path, _, let split, _), .labelledImages(let path, _, let split, _, _):
            return URL(fileURLWithPath: path).lastPathComponent + (split.map { ":" + $0 } ?? "")
        }
    }
}
