/// A token vocabulary: one token a line in `vocab.txt`, its id the 0-based line number.
///
/// As in the reference loaders, surrounding whitespace of a line is dropped and, when a token
/// appears twice, the later line's id wins for lookups (`tokens` keeps every line).
public struct Vocabulary: Sendable {
    /// Tokens in id order.
    public let tokens: [String]
    private let ids: [String: Int32]

    /// Builds a vocabulary from tokens in id order; `source` names it in errors.
    public init(tokens: [String], source: String = "<memory>") throws {
        guard !tokens.isEmpty else {
            throw TextError.malformedFile(path: source, line: nil, reason: "the vocabulary is empty")
        }
        guard tokens.count < Int(Int32.max) else {
            throw TextError.malformedFile(path: source, line: nil, reason: "too many tokens (\(tokens.count))")
        }
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() { ids[token] = Int32(id) }
        self.tokens = tokens
        self.ids = ids
    }

    /// Loads a `vocab.txt` file (UTF-8, one token a line).
    public init(contentsOf path: String) throws {
        let lines = AssetFile.lines(try AssetFile.read(path))
        try self.init(tokens: lines.map { $0.trimmingPythonWhitespace() }, source: path)
    }

    /// Number of tokens (the embedding table's row count).
    public var count: Int { tokens.count }

    /// The id of `token`, or nil when the vocabulary lacks it.
    public func id(for token: String) -> Int32? { ids[token] }

    /// The token of `id`, or nil when `id` is out of range.
    public func token(for id: Int32) -> String? {
        id >= 0 && Int(id) < tokens.count ? tokens[Int(id)] : nil
    }

    /// The id of a token the caller cannot do without, as a typed error when missing.
    func requiredID(for token: String, source: String) throws -> Int32 {
        guard let id = ids[token] else { throw TextError.missingSpecialToken(token: token, vocabulary: source) }
        return id
    }
}
