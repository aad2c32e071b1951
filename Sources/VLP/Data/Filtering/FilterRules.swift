import Foundation

/// What `DataFilter` keeps: the image rules of ALIGN and LAIT, LAIT's text cleaning and
/// heuristics, ALIGN's frequency and length rules, LAIT's vocabulary rate and weak semantic
/// scorer. A rule set to nil is off. The defaults are ALIGN's numbers where ALIGN gives one;
/// each property says where its default comes from.
///
/// Bounds are inclusive: a value equal to a minimum or a maximum is kept. ALIGN words its image
/// rules strictly ("shorter side larger than 200", "aspect ratio smaller than 3"), so an image of
/// exactly 200 px or exactly 3:1 is kept here and dropped there — pass 201 / 2.99 to match it to
/// the pixel.
public struct FilterRules: Codable, Equatable, Sendable {
    /// Images whose shorter side is below this many pixels are dropped. Default 200 (ALIGN keeps
    /// images whose shorter side is larger than 200 px); LAIT keeps images whose width and height
    /// are both larger than 300 px, which is 300 here.
    public var minImageSide: Int? = 200
    /// Images whose long side over short side is above this are dropped. Default 3 (ALIGN: aspect
    /// ratio smaller than 3); LAIT states no such rule.
    public var maxAspectRatio: Double? = 3
    /// Decode every image instead of reading sizes from the headers, to catch images whose header
    /// is fine but whose data is corrupt or cut short. Off by default: a size needs only the
    /// header, and the loader skips undecodable images later anyway. Images are always decoded
    /// when a semantic scorer is given.
    public var decodesImages = false

    /// Clean positive texts before judging them: HTML tags and entities, URLs, runs of
    /// whitespace (LAIT: "filter out bad spans and noisy words"); the cleaned text is what is
    /// written. On by default.
    public var cleansTexts = true
    /// Drop texts that are only boilerplate: no letter at all, a camera file name
    /// (`IMG_2034.JPG`, `DSC0001`), an image file name, or one character repeated (LAIT's
    /// heuristic rules). On by default.
    public var dropsNoisyTexts = true
    /// Texts holding any of these (ignoring case) are dropped: LAIT's spam / adult-word filter.
    /// Empty by default: no list ships with swift-vlp; `vlp data filter --blocklist FILE` reads one.
    public var blockedWords: [String] = []

    /// Texts with fewer characters (after cleaning) are dropped. Off by default: ALIGN and LAIT
    /// bound lengths in words (`minWords`, `maxWords`).
    public var minCharacters: Int?
    /// Texts with more characters are dropped. Off by default.
    public var maxCharacters: Int?
    /// Texts with fewer words are dropped. Default 3 (ALIGN: alt-texts shorter than 3 unigrams).
    /// Words are counted with jieba: Chinese words, English words and numbers; spaces and
    /// punctuation do not count.
    public var minWords: Int? = 3
    /// Texts with more words are dropped. Default 20 (ALIGN: longer than 20 unigrams); LAIT
    /// keeps "sentences of normal length" (13 words on average) without a number. Long Chinese
    /// descriptions (the Zero corpus' content texts) need this raised or off.
    public var maxWords: Int? = 20
    /// Texts whose share of non-`[UNK]` WordPiece tokens (Chinese-CLIP's BERT vocabulary) is
    /// below this are dropped. Default 0.9: LAIT drops "sentences with a high rate of
    /// out-of-vocabulary words" without a number, ALIGN any text with a token outside its 100M
    /// most frequent unigrams and bigrams. A 21,128-token WordPiece vocabulary splits any
    /// Chinese or English word it knows the characters of, so `[UNK]` comes from characters it
    /// lacks (emoji, rare hanzi such as some in names): one token in ten may be one.
    public var minVocabularyRate: Double? = 0.9

    /// A text carried by more than this many distinct images of a part is dropped from all of
    /// them. Default 10 (ALIGN: alt-texts shared by more than 10 images; LAIT drops texts shared
    /// by "too many" images). Images are told apart by file path, or by content for embedded bytes.
    public var maxImagesPerText: Int? = 10

    /// With a scorer: texts whose image–text cosine is below this are dropped. Off by default:
    /// LAIT gives no threshold, and the scale of cosines depends on the model.
    public var minSimilarity: Float?
    /// With a scorer: only this many highest-scoring positive texts of each image are kept.
    /// LAIT keeps the single best-scoring text of an image collected from several pages, which
    /// is 1; `vlp data filter --checkpoint` uses 1 unless `--min-similarity` or `--keep-best` is given.
    public var keepBest: Int?

    public init() {}

    /// The rules that need the weak semantic scorer.
    public var needsScorer: Bool { minSimilarity != nil || keepBest != nil }
    /// The rules that need words counted (jieba).
    public var needsWordCounts: Bool { minWords != nil || maxWords != nil }

    /// Throws `DatasetError.invalidArgument` naming the first bad value.
    public func validate() throws {
        func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            guard condition else { throw DatasetError.invalidArgument("filter rules: " + message()) }
        }
        if let minImageSide { try check(minImageSide >= 1, "the minimum image side must be at least 1 pixel, not \(minImageSide)") }
        if let maxAspectRatio { try check(maxAspectRatio >= 1 && maxAspectRatio.isFinite, "the maximum aspect ratio must be at least 1 (long side / short side), not \(maxAspectRatio)") }
        if let minCharacters { try check(minCharacters >= 1, "the minimum character count must be at least 1, not \(minCharacters)") }
        if let maxCharacters { try check(maxCharacters >= 1, "the maximum character count must be at least 1, not \(maxCharacters)") }
        if let minCharacters, let maxCharacters {
            try check(minCharacters <= maxCharacters, "the minimum character count (\(minCharacters)) is above the maximum (\(maxCharacters))")
        }
        if let minWords { try check(minWords >= 1, "the minimum word count must be at least 1, not \(minWords)") }
        if let maxWords { try check(maxWords >= 1, "the maximum word count must be at least 1, not \(maxWords)") }
        if let minWords, let maxWords {
            try check(minWords <= maxWords, "the minimum word count (\(minWords)) is above the maximum (\(maxWords))")
        }
        if let minVocabularyRate {
            try check(minVocabularyRate > 0 && minVocabularyRate <= 1, "the minimum vocabulary rate must be in (0, 1], not \(minVocabularyRate)")
        }
        if let maxImagesPerText { try check(maxImagesPerText >= 1, "the maximum images per text must be at least 1, not \(maxImagesPerText)") }
        if let minSimilarity {
            try check(minSimilarity >= -1 && minSimilarity <= 1, "the minimum similarity is a cosine, in [-1, 1], not \(minSimilarity)")
        }
        if let keepBest { try check(keepBest >= 1, "keep-best must keep at least 1 text per image, not \(keepBest)") }
        for word in blockedWords {
            try check(!word.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "the blocked words hold an empty entry")
        }
    }
}
