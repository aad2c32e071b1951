extension BertTokenizer {
    /// The share of `text`'s WordPiece tokens that are in the vocabulary (not `[UNK]`), in
    /// [0, 1]; 0 for a text with no tokens. LAIT's "vocabulary rate" of a sentence.
    public func vocabularyRate(of text: String) -> Double {
        let ids = tokenize(text)
        guard !ids.isEmpty else { return 0 }
        let known = ids.reduce(0) { $0 + ($1 == unknownID ? 0 : 1) }
        return Double(known) / Double(ids.count)
    }
}
