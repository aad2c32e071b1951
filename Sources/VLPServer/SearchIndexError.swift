import Foundation

/// Why an index could not be built, opened or searched; each case names the file or input at fault.
public enum SearchIndexError: Error, CustomStringConvertible, Equatable {
    /// An index folder that is missing a file, or whose files disagree with each other.
    case invalidIndex(folder: String, reason: String)
    /// Nothing to index: the source held no readable image.
    case noImages(source: String, skipped: Int)
    /// The destination exists and overwriting was not asked for.
    case destinationExists(String)
    /// A query that cannot be run (empty text, an image that does not decode, a bad count).
    case invalidQuery(String)

    public var description: String {
        switch self {
        case .invalidIndex(let folder, let reason): return "index \(folder): \(reason)"
        case .noImages(let source, let skipped): return "\(source): no readable images to index (\(skipped) skipped)"
        case .destinationExists(let path): return "\(path) already exists (pass --overwrite to replace it)"
        case .invalidQuery(let reason): return "invalid query: \(reason)"
        }
    }
}

extension SearchIndexError: LocalizedError {
    public var errorDescription: String? { description }
}
