/// Why an image could not be read, decoded or encoded. Every case names its source: a file path,
/// or the name the caller gave to bytes held in memory.
public enum ImageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file or buffer holds no bytes at all.
    case zeroByte(source: String)
    /// The data ends before the image does.
    case truncated(source: String, detail: String)
    /// The first bytes are not those of a JPEG, PNG or WebP image.
    case unknownFormat(source: String, detail: String)
    /// The codec rejected the data.
    case corrupt(source: String, detail: String)
    /// Valid but not handled here (a 12-bit JPEG, for example).
    case unsupported(source: String, detail: String)
    /// More pixels than the decoder's limit (a decompression bomb, or a broken header).
    case tooLarge(source: String, detail: String)
    /// The file could not be read (missing, unreadable, a directory).
    case unreadable(source: String, detail: String)
    /// Encoding failed (out of memory, invalid settings).
    case encodingFailed(detail: String)
    /// A transform was configured with values it cannot work with.
    case invalidArgument(detail: String)

    /// The file or buffer name the error is about, if any.
    public var source: String? {
        switch self {
        case .zeroByte(let source), .truncated(let source, _), .unknownFormat(let source, _),
             .corrupt(let source, _), .unsupported(let source, _), .tooLarge(let source, _),
             .unreadable(let source, _):
            return source
        case .encodingFailed, .invalidArgument:
            return nil
        }
    }

    public var description: String {
        switch self {
        case .zeroByte(let source): return "\(source): zero-byte file, not an image"
        case .truncated(let source, let detail): return "\(source): truncated image (\(detail))"
        case .unknownFormat(let source, let detail): return "\(source): unknown image format (\(detail))"
        case .corrupt(let source, let detail): return "\(source): corrupt image (\(detail))"
        case .unsupported(let source, let detail): return "\(source): unsupported image (\(detail))"
        case .tooLarge(let source, let detail): return "\(source): image too large (\(detail))"
        case .unreadable(let source, let detail): return "\(source): cannot read file (\(detail))"
        case .encodingFailed(let detail): return "image encoding failed: \(detail)"
        case .invalidArgument(let detail): return "invalid image transform setting: \(detail)"
        }
    }
}
