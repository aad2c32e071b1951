import Foundation

/// What a text says about its image, after the Zero corpus: a long description (title), a
/// content sentence, a short search query; plus a plain caption (Flickr-style sets) and the
/// class-name prompt a label set renders for zero-shot use.
public enum TextKind: String, Codable, Sendable, CaseIterable {
    case title
    case content
    case query
    case caption
    case classPrompt = "class_prompt"
}

/// How a text relates to its image's original description (UNIMO's text rewriting).
public enum RewriteKind: String, Codable, Sendable, CaseIterable {
    /// A colour or size of one object changed.
    case attribute
    /// A spatial relation reversed (left ↔ right, above ↔ below).
    case relation
    /// One object's shape replaced by another.
    case object
    /// One object count changed.
    case count
}

/// Whether a text describes its image, and how it was made.
public enum TextRole: Equatable, Hashable, Sendable {
    /// The text as collected or generated: a positive.
    case original
    /// A rewriting with the same meaning: a positive.
    case paraphrase
    /// A rewriting that no longer describes the image: a hard negative.
    case hardNegative(RewriteKind)
    /// Another image's caption, retrieved for its similarity to this image's own (UNIMO's
    /// TF-IDF-retrieved hard negatives, `RetrievedNegatives`): a hard negative.
    case retrievedNegative

    /// True for texts that describe their image.
    public var isPositive: Bool {
        switch self {
        case .original, .paraphrase: return true
        case .hardNegative, .retrievedNegative: return false
        }
    }

    /// Stable text form used in files: `original`, `paraphrase`, `negative:attribute`, …
    public var name: String {
        switch self {
        case .original: return "original"
        case .paraphrase: return "paraphrase"
        case .hardNegative(let kind): return "negative:\(kind.rawValue)"
        case .retrievedNegative: return "negative:retrieved"
        }
    }

    public init?(name: String) {
        switch name {
        case "original": self = .original
        case "paraphrase": self = .paraphrase
        case "negative:retrieved": self = .retrievedNegative
        default:
            guard name.hasPrefix("negative:"),
                  let kind = RewriteKind(rawValue: String(name.dropFirst("negative:".count)))
            else { return nil }
            self = .hardNegative(kind)
        }
    }
}

/// One text attached to an image.
public struct SampleText: Equatable, Hashable, Sendable {
    public var text: String
    public var kind: TextKind
    /// BCP-47-ish language tag (`zh`, `en`), nil when unknown.
    public var language: String?
    public var role: TextRole
    /// The text's own id where the format has one (Chinese-CLIP `text_id`).
    public var id: String?

    public init(_ text: String, kind: TextKind = .caption, language: String? = nil,
                role: TextRole = .original, id: String? = nil) {
        self.text = text
        self.kind = kind
        self.language = language
        self.role = role
        self.id = id
    }

    /// True when nothing but the text itself needs storing (a plain caption).
    var isPlainCaption: Bool {
        kind == .caption && language == nil && role == .original && id == nil
    }
}

/// Where a sample's image is.
public enum ImagePayload: Equatable, Sendable {
    /// Encoded bytes (PNG, JPEG, WebP, …) as stored in the dataset.
    case encoded(Data)
    /// A file on disk, absolute or relative to the working directory.
    case file(String)
    /// Already decoded pixels (idx sets, the built-in corpus before encoding).
    case pixels(RGBImage)
}

/// One image with its texts, the unit every format reader yields and every writer takes.
public struct Sample: Equatable, Sendable {
    /// Unique within its dataset (the reader reports duplicates as skips).
    public var id: String
    public var image: ImagePayload?
    public var texts: [SampleText]
    /// A class index (label sets) or a match label 1/0 (matching sets); nil when absent.
    public var label: Int?

    public init(id: String, image: ImagePayload?, texts: [SampleText], label: Int? = nil) {
        self.id = id
        self.image = image
        self.texts = texts
        self.label = label
    }

    /// The texts that describe the image (originals and paraphrases).
    public var positiveTexts: [SampleText] { texts.filter { $0.role.isPositive } }

    /// The encoded image bytes: read from disk for `.file`, encoded with `encode` for `.pixels`.
    /// Throws `DatasetError.missingImage` without an image.
    public func imageBytes(encode: ((RGBImage) throws -> Data)? = nil) throws -> Data {
        switch image {
        case .encoded(let data):
            return data
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw DatasetError.fileNotFound(path)
            }
            return data
        case .pixels(let raster):
            guard let encode else { throw DatasetError.noEncoder(sample: id) }
            return try encode(raster)
        case nil:
            throw DatasetError.missingImage(sample: id)
        }
    }
}
