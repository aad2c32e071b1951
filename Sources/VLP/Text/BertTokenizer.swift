/// BERT's tokenizer: basic tokenization then WordPiece, `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`
/// with token type ids, truncation, padding and attention masks.
///
/// Two presets give the same ids as the references: `chineseCLIP` (cn-clip's
/// `bert_tokenizer.FullTokenizer` over its 21,128-token Chinese vocabulary, lower-cased) and
/// `englishUncased` (Hugging Face `tokenizers` with `assets/minilm/tokenizer.json`).
public struct BertTokenizer: TextTokenizer {
    public struct Options: Sendable, Equatable {
        public var basic: BasicTokenizer.Options
        /// Longer words become `[UNK]`: 200 in Google's BERT (cn-clip), 100 in Hugging Face.
        public var maxInputCharsPerWord: Int

        public init(basic: BasicTokenizer.Options = .init(), maxInputCharsPerWord: Int = 100) {
            self.basic = basic
            self.maxInputCharsPerWord = maxInputCharsPerWord
        }

        /// cn-clip's `FullTokenizer(do_lower_case=True)` (Google's `tokenization.py`).
        public static let cnCLIP = Options(basic: .init(lowercase: true), maxInputCharsPerWord: 200)
        /// Hugging Face `BertNormalizer(lowercase=True, strip_accents=None)` + `BertPreTokenizer`
        /// + `WordPiece(max_input_chars_per_word=100)`.
        public static let huggingFaceUncased = Options(
            basic: .init(lowercase: true, lowercasesFinalSigma: false, removesUnassignedCharacters: true, cjkExtensionEStart: 0x2B920),
            maxInputCharsPerWord: 100)
    }

    public let vocabulary: Vocabulary
    public let options: Options
    public let classID: Int32
    public let separatorID: Int32
    public let paddingID: Int32
    public let unknownID: Int32
    public let maskID: Int32
    private let basic: BasicTokenizer
    private let wordPiece: WordPieceTokenizer

    /// A tokenizer over `vocabulary`, which must hold `[CLS]`, `[SEP]`, `[PAD]`, `[UNK]`, `[MASK]`.
    public init(vocabulary: Vocabulary, options: Options = .cnCLIP, source: String = "<memory>") throws {
        self.vocabulary = vocabulary
        self.options = options
        classID = try vocabulary.requiredID(for: "[CLS]", source: source)
        separatorID = try vocabulary.requiredID(for: "[SEP]", source: source)
        paddingID = try vocabulary.requiredID(for: "[PAD]", source: source)
        unknownID = try vocabulary.requiredID(for: "[UNK]", source: source)
        maskID = try vocabulary.requiredID(for: "[MASK]", source: source)
        basic = BasicTokenizer(options: options.basic)
        wordPiece = WordPieceTokenizer(vocabulary: vocabulary, unknownID: unknownID,
                                       maxInputCharsPerWord: options.maxInputCharsPerWord)
    }

    /// Loads `vocab.txt` at `path`.
    public init(vocabularyFile path: String, options: Options = .cnCLIP) throws {
        try self.init(vocabulary: Vocabulary(contentsOf: path), options: options, source: path)
    }

    /// cn-clip's Chinese tokenizer (vocabulary `assets/cn-clip/vocab.txt`, 21,128 tokens).
    public static func chineseCLIP(vocabularyFile path: String = "assets/cn-clip/vocab.txt") throws -> BertTokenizer {
        try BertTokenizer(vocabularyFile: path, options: .cnCLIP)
    }

    /// The English uncased tokenizer of MiniLM (vocabulary `assets/minilm/vocab.txt`, 30,522 tokens).
    public static func englishUncased(vocabularyFile path: String = "assets/minilm/vocab.txt") throws -> BertTokenizer {
        try BertTokenizer(vocabularyFile: path, options: .huggingFaceUncased)
    }

    public var vocabularySize: Int { vocabulary.count }

    /// Ids of the special tokens, which masking must leave alone.
    public var specialTokenIDs: Set<Int32> { [classID, separatorID, paddingID, unknownID, maskID] }

    public func tokenize(_ text: String) -> [Int32] { pieces(text).ids }

    public func tokens(for ids: [Int32]) throws -> [String] {
        try ids.map { id in
            guard let token = vocabulary.token(for: id) else {
                throw TextError.invalidArgument(name: "id", reason: "\(id) is outside the vocabulary (\(vocabulary.count) tokens)")
            }
            return token
        }
    }

    /// The basic-tokenized words of `text` (before WordPiece).
    public func words(in text: String) -> [String] { basic.words(in: text) }

    public func encode(_ text: String, maxLength: Int? = nil, paddedTo length: Int? = nil) throws -> TokenizedText {
        try encode(text, pair: nil, maxLength: maxLength, paddedTo: length)
    }

    /// `[CLS] text [SEP]`, or `[CLS] text [SEP] pair [SEP]` with token type 1 for the pair's part.
    /// With `maxLength`, the texts are cut so that the whole fits, special tokens included; for
    /// a pair, longest-first as Hugging Face `tokenizers` does it: when only the longer text
    /// must shrink, it keeps `maxLength - 3 - shorter` tokens, else the two get half each (the
    /// longer one the odd token). Then padding with `[PAD]` (type 0, mask 0) to `length`.
    public func encode(_ text: String, pair: String?, maxLength: Int? = nil, paddedTo length: Int? = nil) throws -> TokenizedText {
        let specials = pair == nil ? 2 : 3
        if let maxLength, maxLength < specials {
            throw TextError.invalidArgument(name: "maxLength", reason: "\(maxLength) leaves no room for the \(specials) special tokens")
        }
        let first = pieces(text)
        let second = pair.map(pieces)
        var n1 = first.count, n2 = second?.count ?? 0
        if let maxLength {
            (n1, n2) = Self.truncatedLengths(n1, n2, budget: maxLength - specials, isPair: second != nil)
        }
        var out = TokenizedText(capacity: max(n1 + n2 + specials, length ?? 0))
        out.appendSpecial(classID, type: 0)
        out.append(first, range: 0..<n1, type: 0)
        out.appendSpecial(separatorID, type: 0)
        if let second {
            out.append(second, range: 0..<n2, type: 1)
            out.appendSpecial(separatorID, type: 1)
        }
        if let length { out.pad(to: length, padID: paddingID) }
        return out
    }

    /// Lengths after longest-first truncation to `budget` tokens (Hugging Face's rule).
    static func truncatedLengths(_ n1: Int, _ n2: Int, budget: Int, isPair: Bool) -> (Int, Int) {
        guard isPair else { return (min(n1, budget), 0) }
        guard n1 + n2 > budget else { return (n1, n2) }
        var short = min(n1, n2), long = max(n1, n2)
        long = short > budget ? short : max(short, budget - short)
        if short + long > budget {
            short = budget / 2
            long = short + budget % 2
        }
        return n1 > n2 ? (long, short) : (short, long)
    }

    func pieces(_ text: String) -> TokenPieces {
        let words = basic.split(text)
        var pieces = TokenPieces()
        pieces.ids.reserveCapacity(words.scalars.count)
        pieces.offsets.reserveCapacity(words.scalars.count)
        pieces.words.reserveCapacity(words.scalars.count)
        words.scalars.withUnsafeBufferPointer { scalars in
            words.offsets.withUnsafeBufferPointer { offsets in
                for w in 0..<words.count {
                    let range = Int(words.starts[w])..<Int(words.starts[w + 1])
                    wordPiece.appendPieces(of: UnsafeBufferPointer(rebasing: scalars[range]),
                                           offsets: UnsafeBufferPointer(rebasing: offsets[range]),
                                           wordIndex: Int32(w), to: &pieces)
                }
            }
        }
        return pieces
    }
}
