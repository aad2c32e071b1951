/// Errors raised while loading or using the text tools (tokenizers, segmenter, masker).
/// Each case names the file or the value at fault and what is wrong with it.
public enum TextError: Error, Equatable, CustomStringConvertible {
    /// An asset file (vocabulary, merges, dictionary) does not exist.
    case missingFile(path: String, hint: String)
    /// A file exists but cannot be read or decoded.
    case unreadableFile(path: String, reason: String)
    /// A file was read but its content is not what was expected, at a 1-based line when known.
    case malformedFile(path: String, line: Int?, reason: String)
    /// A vocabulary lacks a token the tokenizer needs (for example `[CLS]`).
    case missingSpecialToken(token: String, vocabulary: String)
    /// An argument is out of its valid range.
    case invalidArgument(name: String, reason: String)

    public var description: String {
        switch self {
        case let .missingFile(path, hint):
            return "missing file \(path)" + (hint.isEmpty ? "" : " (\(hint))")
        case let .unreadableFile(path, reason):
            return "cannot read \(path): \(reason)"
        case let .malformedFile(path, line, reason):
            return "malformed \(path)" + (line.map { " at line \($0)" } ?? "") + ": \(reason)"
        case let .missingSpecialToken(token, vocabulary):
            return "vocabulary \(vocabulary) has no \(token) token"
        case let .invalidArgument(name, reason):
            return "invalid \(name): \(reason)"
        }
    }
}
