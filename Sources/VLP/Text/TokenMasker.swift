/// Masked-language-modeling input: a fraction of the tokens are chosen, whole words at a time,
/// and replaced; the model must predict the originals.
///
/// - Candidates are real tokens (attention mask 1) that are not special tokens
///   (`[CLS]`, `[SEP]`, `[PAD]`, `[UNK]`, `[MASK]`, …).
/// - Tokens are grouped into words: WordPiece pieces of one word always go together, and with
///   word spans from a segmenter (jieba for Chinese: whole-word masking as in RoBERTa-wwm-ext) so
///   do the characters of one segmented word.
/// - `round(ratio × candidates)` tokens (at least one) are masked: groups in random order are
///   taken while they fit, as Hugging Face's whole-word-masking collator does.
/// - Each chosen token becomes `[MASK]` (`.allMask`, as R2D2), or, with `.bert`, `[MASK]` 80% of
///   the time, a random non-special token 10%, itself 10%.
/// - Labels hold the original id at chosen positions and -100 (PyTorch's `ignore_index`)
///   elsewhere.
public struct TokenMasker: Sendable {
    public enum Strategy: Sendable, Equatable {
        /// Every chosen token becomes `[MASK]`.
        case allMask
        /// BERT's 80% `[MASK]` / 10% random token / 10% unchanged.
        case bert
    }

    /// Label of the positions that are not predicted.
    public static let ignoredLabel: Int32 = -100

    public let maskID: Int32
    public let vocabularySize: Int
    public let specialTokenIDs: Set<Int32>
    public let ratio: Double
    public let strategy: Strategy

    public init(maskID: Int32, vocabularySize: Int, specialTokenIDs: Set<Int32>,
                ratio: Double = 0.15, strategy: Strategy = .allMask) throws {
        guard ratio > 0 && ratio <= 1 else {
            throw TextError.invalidArgument(name: "ratio", reason: "\(ratio) is not in (0, 1]")
        }
        guard vocabularySize > specialTokenIDs.count, maskID >= 0, Int(maskID) < vocabularySize else {
            throw TextError.invalidArgument(name: "maskID", reason: "\(maskID) is not an id of a \(vocabularySize)-token vocabulary with ordinary tokens")
        }
        self.maskID = maskID
        self.vocabularySize = vocabularySize
        self.specialTokenIDs = specialTokenIDs.union([maskID])
        self.ratio = ratio
        self.strategy = strategy
    }

    /// A masker for `tokenizer`'s vocabulary and special tokens.
    public init(tokenizer: BertTokenizer, ratio: Double = 0.15, strategy: Strategy = .allMask) throws {
        try self.init(maskID: tokenizer.maskID, vocabularySize: tokenizer.vocabularySize,
                      specialTokenIDs: tokenizer.specialTokenIDs, ratio: ratio, strategy: strategy)
    }

    /// Masks `text` (an encoding of one text or a pair). `wordSpans` / `pairWordSpans` are the
    /// segmented words of the first / second text in Unicode-scalar offsets (see
    /// `JiebaSegmenter.wordSpans`); without them only WordPiece pieces are grouped.
    public func mask<G: RandomNumberGenerator>(_ text: TokenizedText, wordSpans: [Range<Int>]? = nil,
                                               pairWordSpans: [Range<Int>]? = nil, using generator: inout G) -> MaskedTokens {
        var groups = wordGroups(text, spans: [wordSpans, pairWordSpans])
        let candidates = groups.reduce(0) { $0 + $1.count }
        var result = MaskedTokens(inputIDs: text.ids, labels: Array(repeating: Self.ignoredLabel, count: text.count))
        guard candidates > 0 else { return result }
        let target = max(1, Int((Double(candidates) * ratio).rounded()))
        // Fisher–Yates over the groups, then take them while they fit.
        for i in stride(from: groups.count - 1, to: 0, by: -1) {
            groups.swapAt(i, Int(generator.next(upperBound: UInt64(i + 1))))
        }
        var chosen = 0
        for group in groups where chosen < target && chosen + group.count <= target {
            chosen += group.count
            for position in group {
                result.labels[position] = text.ids[position]
                result.inputIDs[position] = replacement(for: text.ids[position], using: &generator)
            }
        }
        return result
    }

    /// `mask(_:wordSpans:pairWordSpans:using:)` with a `SplitMix64` seeded by `seed`.
    public func mask(_ text: TokenizedText, wordSpans: [Range<Int>]? = nil, pairWordSpans: [Range<Int>]? = nil,
                     seed: UInt64) -> MaskedTokens {
        var generator = SplitMix64(seed: seed)
        return mask(text, wordSpans: wordSpans, pairWordSpans: pairWordSpans, using: &generator)
    }

    /// Whole-word masking of Chinese text: spans from `segmenter` for `text` (and `pair`), which
    /// must be the strings `encoded` was made from.
    public func mask(_ encoded: TokenizedText, text: String, pair: String? = nil,
                     segmenter: JiebaSegmenter, seed: UInt64) -> MaskedTokens {
        mask(encoded, wordSpans: segmenter.wordSpans(text), pairWordSpans: pair.map { segmenter.wordSpans($0) }, seed: seed)
    }

    private func replacement<G: RandomNumberGenerator>(for id: Int32, using generator: inout G) -> Int32 {
        guard strategy == .bert else { return maskID }
        let draw = Double(generator.next() >> 11) * 0x1.0p-53
        if draw < 0.8 { return maskID }
        if draw >= 0.9 { return id }
        while true {
            let random = Int32(generator.next(upperBound: UInt64(vocabularySize)))
            if !specialTokenIDs.contains(random) { return random }
        }
    }

    /// Positions of the candidate tokens, grouped by word, in order.
    func wordGroups(_ text: TokenizedText, spans: [[Range<Int>]?]) -> [[Int]] {
        // For each sequence (token type 0, 1): scalar offset → segmented word index.
        let wordOfOffset: [[Int32]?] = spans.map { spans in
            spans.map { spans in
                var table = [Int32](repeating: -1, count: spans.last?.upperBound ?? 0)
                for (w, span) in spans.enumerated() { for i in span { table[i] = Int32(w) } }
                return table
            }
        }
        func segmentedWord(_ position: Int) -> Int32? {
            let type = Int(text.tokenTypeIDs[position]), offset = Int(text.sourceOffsets[position])
            guard type < wordOfOffset.count, let table = wordOfOffset[type], offset >= 0, offset < table.count else { return nil }
            return table[offset]
        }
        var groups: [[Int]] = []
        var previous = -1
        for position in 0..<text.count {
            guard text.attentionMask[position] == 1, !text.specialTokensMask[position],
                  !specialTokenIDs.contains(text.ids[position]) else { previous = -1; continue }
            let joins = previous >= 0 && text.tokenTypeIDs[previous] == text.tokenTypeIDs[position]
                && ((text.wordIndices[previous] == text.wordIndices[position] && text.wordIndices[position] >= 0)
                    || (segmentedWord(previous) != nil && segmentedWord(previous) == segmentedWord(position)))
            if joins { groups[groups.count - 1].append(position) } else { groups.append([position]) }
            previous = position
        }
        return groups
    }
}

/// The result of masking: the model's input ids and the labels to predict.
public struct MaskedTokens: Sendable, Equatable {
    /// Input ids with the chosen positions replaced.
    public var inputIDs: [Int32]
    /// Original id at the chosen positions, `TokenMasker.ignoredLabel` (-100) elsewhere.
    public var labels: [Int32]
}
