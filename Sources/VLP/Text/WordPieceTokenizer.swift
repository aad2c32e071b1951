/// Greedy longest-match-first WordPiece over a vocabulary: a word is cut into the longest
/// vocabulary prefix, then the longest `##`-prefixed piece of the rest, and so on; a word with
/// an unmatched remainder, or longer than `maxInputCharsPerWord` scalars, becomes `[UNK]`.
///
/// Matching walks a trie (one for word-initial pieces, one for continuations), so a piece costs
/// one hash probe per character instead of one dictionary lookup per candidate length.
public struct WordPieceTokenizer: Sendable {
    public let unknownID: Int32
    public let maxInputCharsPerWord: Int
    private var trie: ScalarTrie
    private let initialRoot: ScalarTrie.Node
    private let continuationRoot: ScalarTrie.Node

    public init(vocabulary: Vocabulary, unknownID: Int32, maxInputCharsPerWord: Int = 100,
                continuingSubwordPrefix: String = "##") {
        self.unknownID = unknownID
        self.maxInputCharsPerWord = maxInputCharsPerWord
        var trie = ScalarTrie(defaultValue: -1, expectedNodes: vocabulary.count * 4)
        initialRoot = trie.addRoot()
        continuationRoot = trie.addRoot()
        let prefix = Array(continuingSubwordPrefix.unicodeScalars.map(\.value))
        var seen = Set<String>()
        // The later line wins when a token repeats, as in the reference dictionaries.
        for (id, token) in vocabulary.tokens.enumerated().reversed() where seen.insert(token).inserted {
            let scalars = token.unicodeScalars.map(\.value)
            let node = trie.insert(scalars, from: initialRoot)
            trie.setValue(Int32(id), at: node)
            if scalars.count > prefix.count && scalars.starts(with: prefix) {
                let piece = trie.insert(scalars[prefix.count...], from: continuationRoot)
                trie.setValue(Int32(id), at: piece)
            }
        }
        self.trie = trie
    }

    /// Appends the piece ids of `word` to `pieces`, each tagged with the source offset of its
    /// first character and with `wordIndex`.
    func appendPieces(of word: UnsafeBufferPointer<UInt32>, offsets: UnsafeBufferPointer<Int32>,
                      wordIndex: Int32, to pieces: inout TokenPieces) {
        let n = word.count
        if n > maxInputCharsPerWord {
            pieces.append(unknownID, offset: offsets[0], word: wordIndex)
            return
        }
        let firstPiece = pieces.count
        var start = 0
        while start < n {
            var node = start == 0 ? initialRoot : continuationRoot
            var best: Int32 = -1
            var bestEnd = start
            var i = start
            while i < n {
                node = trie.child(node, word[i])
                if node == ScalarTrie.none { break }
                i += 1
                let value = trie.value(node)
                if value >= 0 { best = value; bestEnd = i }
            }
            if best < 0 {
                pieces.ids.removeSubrange(firstPiece...)
                pieces.offsets.removeSubrange(firstPiece...)
                pieces.words.removeSubrange(firstPiece...)
                pieces.append(unknownID, offset: offsets[0], word: wordIndex)
                return
            }
            pieces.append(best, offset: offsets[start], word: wordIndex)
            start = bestEnd
        }
    }

    /// The piece ids of one word (already basic-tokenized).
    public func pieces(of word: String) -> [Int32] {
        let scalars = word.unicodeScalars.map(\.value)
        guard !scalars.isEmpty else { return [] }
        let offsets = (0..<Int32(scalars.count)).map { $0 }
        var pieces = TokenPieces()
        scalars.withUnsafeBufferPointer { w in
            offsets.withUnsafeBufferPointer { o in appendPieces(of: w, offsets: o, wordIndex: 0, to: &pieces) }
        }
        return pieces.ids
    }
}
