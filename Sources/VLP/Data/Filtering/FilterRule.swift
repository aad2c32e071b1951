/// Why `DataFilter` dropped a sample or a text. Each drop is counted once, under the first rule
/// it fails, in the order of `allCases`: image rules, then text rules in the order they run,
/// then `noTextLeft` for a sample that lost every positive text.
public enum FilterRule: String, CaseIterable, Codable, Sendable {
    /// The image is missing, unreadable, in a format the loader does not decode, larger than its
    /// pixel limit (`ImageDecoder.defaultMaxPixels`), or (when decoding) corrupt. Drops the sample.
    case unreadableImage = "unreadable_image"
    /// The image's shorter side is below `FilterRules.minImageSide`. Drops the sample.
    case smallImage = "small_image"
    /// The image's long side over its short side exceeds `FilterRules.maxAspectRatio`. Drops the sample.
    case extremeAspectRatio = "extreme_aspect_ratio"
    /// Nothing but boilerplate after cleaning: no letter, a camera file name, one character repeated.
    case noisyText = "noisy_text"
    /// Holds a word of `FilterRules.blockedWords` (spam, adult content).
    case blockedWord = "blocked_word"
    case tooFewCharacters = "too_few_characters"
    case tooManyCharacters = "too_many_characters"
    case tooFewWords = "too_few_words"
    case tooManyWords = "too_many_words"
    /// Too large a share of its WordPiece tokens are `[UNK]`.
    case lowVocabularyRate = "low_vocabulary_rate"
    /// The same text (after cleaning, ignoring case) is carried by more than
    /// `FilterRules.maxImagesPerText` distinct images of the part: boilerplate alt-text.
    case sharedByTooManyImages = "shared_by_too_many_images"
    /// The weak semantic scorer's image–text cosine is below `FilterRules.minSimilarity`.
    case lowSimilarity = "low_similarity"
    /// Not among the `FilterRules.keepBest` highest-scoring texts of its image.
    case notAmongBest = "not_among_best"
    /// Every positive text of the sample was dropped, so the sample is too.
    case noTextLeft = "no_text_left"

    /// True for the rules that drop whole samples; the others drop single texts.
    public var dropsSamples: Bool {
        switch self {
        case .unreadableImage, .smallImage, .extremeAspectRatio, .noTextLeft: return true
        default: return false
        }
    }
}
