import Foundation

/// The tokenizers a model can read its texts with. A run description names one (with its
/// vocabulary file), a model bundle records it, `vlp tokenize --tokenizer` takes the same names.
public enum TokenizerKind: String, Codable, CaseIterable, Sendable {
    /// cn-clip's Chinese BERT tokenizer (Google's `FullTokenizer`, lower-cased), `vocab.txt`.
    case bertChinese = "bert-zh"
    /// Hugging Face's uncased English BERT tokenizer (MiniLM), `vocab.txt`.
    case bertEnglish = "bert-en"
    /// OpenAI CLIP's byte-level BPE, a `bpe_simple_vocab_16e6.txt.gz` merges file.
    case clip

    /// Where `make assets` puts this tokenizer's file, relative to the project folder.
    public var defaultFile: String {
        switch self {
        case .bertChinese: return "assets/cn-clip/vocab.txt"
        case .bertEnglish: return "assets/minilm/vocab.txt"
        case .clip: return "assets/open-clip/bpe_simple_vocab_16e6.txt.gz"
        }
    }

    /// `defaultFile` where it is found from any working folder (`AssetFile.locate`: the working
    /// folder, `VLP_ROOT`, the package folder of the running `vlp`).
    public var locatedDefaultFile: URL { URL(fileURLWithPath: AssetFile.locate(defaultFile)) }

    /// The file name a model bundle stores the vocabulary under.
    public var bundleFileName: String {
        switch self {
        case .bertChinese, .bertEnglish: return "vocab.txt"
        case .clip: return "bpe_simple_vocab_16e6.txt.gz"
        }
    }

    /// Loads the tokenizer from `file` (this kind's vocabulary or merges file).
    public func load(file: String) throws -> any TextTokenizer {
        switch self {
        case .bertChinese, .bertEnglish: return try loadBert(file: file)
        case .clip: return try CLIPTokenizer(mergesFile: file)
        }
    }

    /// The BERT tokenizer of a BERT kind (masking needs its `[MASK]` id); an error for CLIP's BPE,
    /// which has no mask token.
    public func loadBert(file: String) throws -> BertTokenizer {
        switch self {
        case .bertChinese: return try BertTokenizer.chineseCLIP(vocabularyFile: file)
        case .bertEnglish: return try BertTokenizer.englishUncased(vocabularyFile: file)
        case .clip:
            throw TextError.invalidArgument(name: "tokenizer", reason: "CLIP's BPE tokenizer has no [MASK] token: masked objectives need bert-zh or bert-en")
        }
    }

    /// "bert-zh, bert-en, clip", for error messages.
    public static var allowedNames: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
