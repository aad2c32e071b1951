/// One tokenized text (or text pair), ready to become a row of a batch: plain arrays, one entry
/// per position, padding included.
public struct TokenizedText: Sendable, Equatable {
    /// Token ids, special tokens and padding included.
    public var ids: [Int32]
    /// Segment of each position: 0 for the first text (and its `[CLS]`/`[SEP]`), 1 for the second.
    public var tokenTypeIDs: [Int32]
    /// 1 for real tokens (special ones included), 0 for padding.
    public var attentionMask: [Int32]
    /// True for special tokens (`[CLS]`, `[SEP]`, start/end of text) and padding.
    public var specialTokensMask: [Bool]
    /// For each token, the index (in Unicode scalars of its own text) of the first source
    /// character it covers; -1 for special tokens and padding.
    public var sourceOffsets: [Int32]
    /// For each token, the index of the pre-tokenized word it belongs to within its own text
    /// (WordPiece pieces of one word share it); -1 for special tokens and padding.
    public var wordIndices: [Int32]

    public init(ids: [Int32], tokenTypeIDs: [Int32], attentionMask: [Int32], specialTokensMask: [Bool],
                sourceOffsets: [Int32], wordIndices: [Int32]) {
        self.ids = ids
        self.tokenTypeIDs = tokenTypeIDs
        self.attentionMask = attentionMask
        self.specialTokensMask = specialTokensMask
        self.sourceOffsets = sourceOffsets
        self.wordIndices = wordIndices
    }

    /// Number of positions, padding included.
    public var count: Int { ids.count }

    /// An empty encoding to append to.
    init(capacity: Int) {
        ids = []; tokenTypeIDs = []; attentionMask = []; specialTokensMask = []; sourceOffsets = []; wordIndices = []
        reserveAll(capacity)
    }

    private mutating func reserveAll(_ n: Int) {
        ids.reserveCapacity(n); tokenTypeIDs.reserveCapacity(n); attentionMask.reserveCapacity(n)
        specialTokensMask.reserveCapacity(n); sourceOffsets.reserveCapacity(n); wordIndices.reserveCapacity(n)
    }

    mutating func appendSpecial(_ id: Int32, type: Int32) {
        append(id, type: type, mask: 1, special: true, offset: -1, word: -1)
    }

    mutating func append(_ pieces: TokenPieces, range: Range<Int>, type: Int32) {
        for i in range {
            append(pieces.ids[i], type: type, mask: 1, special: false, offset: pieces.offsets[i], word: pieces.words[i])
        }
    }

    /// Pads with `padID` up to `length` positions (nothing when already that long).
    mutating func pad(to length: Int, padID: Int32) {
        while ids.count < length { append(padID, type: 0, mask: 0, special: true, offset: -1, word: -1) }
    }

    private mutating func append(_ id: Int32, type: Int32, mask: Int32, special: Bool, offset: Int32, word: Int32) {
        ids.append(id); tokenTypeIDs.append(type); attentionMask.append(mask)
        specialTokensMask.append(special); sourceOffsets.append(offset); wordIndices.append(word)
    }
}

/// Tokens of one text before special tokens are added: ids with, for each, the source offset of
/// its first character and its word index (see `TokenizedText`).
struct TokenPieces: Sendable {
    var ids: [Int32] = []
    var offsets: [Int32] = []
    var words: [Int32] = []

    var count: Int { ids.count }

    mutating func append(_ id: Int32, offset: Int32, word: Int32) {
        ids.append(id); offsets.append(offset); words.append(word)
    }
}
