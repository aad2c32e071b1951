import Foundation

/// The model configuration's `text` section: which text tower to build and its shape.
///
/// JSON: a BERT is the section as it always was (Hugging Face `config.json` keys, no `kind` or
/// `"kind": "bert"`), so every existing configuration and checkpoint `config.json` decodes
/// unchanged; `{"kind": "clip", "vocab_size": 49408, "width": 512, …}` is OpenAI CLIP's causal
/// text transformer (`CLIPTextConfiguration`).
public enum TextTowerConfiguration: Codable, Equatable, Sendable {
    case bert(BertConfiguration)
    case clip(CLIPTextConfiguration)

    /// The `kind` values.
    public enum Kind: String, CaseIterable, Sendable {
        case bert
        case clip
    }

    public var kind: Kind {
        switch self {
        case .bert: return .bert
        case .clip: return .clip
        }
    }

    /// The BERT's shape, when the tower is a BERT (cross encoders, MLM and the single stream need one).
    public var bert: BertConfiguration? {
        if case .bert(let c) = self { return c }
        return nil
    }

    public var clip: CLIPTextConfiguration? {
        if case .clip(let c) = self { return c }
        return nil
    }

    /// Width of the token states and of the pooled vector the text projection takes.
    public var hiddenSize: Int {
        switch self {
        case .bert(let c): return c.hiddenSize
        case .clip(let c): return c.width
        }
    }

    /// Rows of the token embedding table.
    public var vocabularySize: Int {
        switch self {
        case .bert(let c): return c.vocabularySize
        case .clip(let c): return c.vocabularySize
        }
    }

    /// The longest text (in tokens) the tower takes.
    public var maxPositions: Int {
        switch self {
        case .bert(let c): return c.maxPositions
        case .clip(let c): return c.contextLength
        }
    }

    /// Which token state the tower pools into the text's vector.
    public var pooling: ModelPreprocessing.TextPoolingRule {
        switch self {
        case .bert: return .firstToken
        case .clip: return .endOfText
        }
    }

    /// "BERT 768 wide, 12 layers, 12 heads, 21128 tokens", for reports.
    public var summary: String {
        switch self {
        case .bert(let c): return "BERT \(c.hiddenSize) wide, \(c.layers) layers, \(c.heads) heads, \(c.vocabularySize) tokens"
        case .clip(let c):
            return "CLIP text transformer \(c.width) wide, \(c.layers) layers, \(c.heads) heads, \(c.vocabularySize) tokens, context \(c.contextLength), \(c.activation.rawValue)"
        }
    }

    /// A new tower with this shape (a BERT without its pooler: the dual encoder pools `[CLS]`).
    public func makeTower() throws -> any TextTower {
        switch self {
        case .bert(let c): return try BertModel(c, withPooler: false)
        case .clip(let c): return try CLIPTextTransformer(c)
        }
    }

    public func validate(source: String) throws {
        switch self {
        case .bert(let c): try c.validate(source: source)
        case .clip(let c): try c.validate(source: source)
        }
    }

    enum CodingKeys: String, CodingKey { case kind }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decodeIfPresent(String.self, forKey: .kind) ?? Kind.bert.rawValue
        guard let kind = Kind(rawValue: name) else {
            throw DecodingError.dataCorruptedError(forKey: .kind, in: container,
                                                   debugDescription: "text kind \"\(name)\" is not known (allowed: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        switch kind {
        case .bert: self = .bert(try BertConfiguration(from: decoder))
        case .clip: self = .clip(try CLIPTextConfiguration(from: decoder))
        }
    }

    /// A BERT is written without `kind`, exactly as before text towers had kinds.
    public func encode(to encoder: Encoder) throws {
        switch self {
        case .bert(let c):
            try c.encode(to: encoder)
        case .clip(let c):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(Kind.clip.rawValue, forKey: .kind)
            try c.encode(to: encoder)
        }
    }
}
