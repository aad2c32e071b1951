extension JiebaSegmenter {
    /// How many words `text` has, as ALIGN counts unigrams for its length rules: jieba's words
    /// (Chinese words, English words, numbers), leaving out spaces and punctuation.
    public func unigramCount(of text: String) -> Int {
        cut(text).reduce(0) { count, word in
            let isWord = word.unicodeScalars.contains { $0.properties.isAlphabetic || $0.properties.numericType != nil }
            return count + (isWord ? 1 : 0)
        }
    }
}
