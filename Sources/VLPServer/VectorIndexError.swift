import CFaiss
import Foundation

/// Why a vector index could not be built, filled, searched, written or read; each case names
/// the factory string, row, argument or file at fault so the message alone locates the problem.
public enum VectorIndexError: Error, Equatable, Sendable {
    /// FAISS could not build an index from the factory string at this dimension.
    case invalidFactory(factory: String, dimension: Int, reason: String)
    case invalidDimension(Int)
    /// A row (or query) whose length is not the index's dimension; `row` counts from 0.
    case wrongWidth(operation: String, row: Int, expected: Int, got: Int)
    /// Adding to an index that needs `train(_:)` first (IVF, PQ, …).
    case notTrained(operation: String, index: String)
    /// A search asked for fewer than one neighbor.
    case invalidNeighborCount(Int)
    case missingFile(path: String)
    /// A file that exists but does not hold an index FAISS can read.
    case unreadableFile(path: String, reason: String)
    case unwritableFile(path: String, reason: String)
    /// Any other failure reported by FAISS, with its text.
    case faiss(operation: String, index: String, reason: String)
}

extension VectorIndexError: CustomStringConvertible, LocalizedError {
    public var description: String {
        switch self {
        case .invalidFactory(let factory, let dimension, let reason):
            return "cannot build a FAISS index from factory string \"\(factory)\" (dimension \(dimension)): \(reason)"
        case .invalidDimension(let dimension):
            return "vector dimension must be at least 1, got \(dimension)"
        case .wrongWidth(let operation, let row, let expected, let got):
            return "\(operation): row \(row) has \(got) values, expected \(expected) (the index's dimension)"
        case .notTrained(let operation, let index):
            return "\(operation): index \(index) is not trained; call train(_:) with sample rows first"
        case .invalidNeighborCount(let k):
            return "search: the number of neighbors (k) must be at least 1, got \(k)"
        case .missingFile(let path):
            return "no index file at \(path)"
        case .unreadableFile(let path, let reason):
            return "cannot read index file \(path): \(reason)"
        case .unwritableFile(let path, let reason):
            return "cannot write index file \(path): \(reason)"
        case .faiss(let operation, let index, let reason):
            return "\(operation) on index \(index): \(reason)"
        }
    }

    public var errorDescription: String? { description }

    /// The message CFaiss stored for this thread, cleared once read.
    static func lastMessage() -> String {
        let text = vf_last_error().map { String(cString: $0) } ?? "unknown FAISS error"
        vf_clear_error()
        return text
    }
}
