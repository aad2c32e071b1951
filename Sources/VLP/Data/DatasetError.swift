import Foundation

/// Problems that stop a whole read or write. Bad single records are not errors: readers skip
/// them and list them as `SkippedRecord`s.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    case fileNotFound(String)
    case unreadable(String, reason: String)
    case unwritable(String, reason: String)
    case badHeader(String, reason: String)
    case unknownFormat(String)
    case missingImage(sample: String)
    case noEncoder(sample: String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .fileNotFound(let path): return "\(path): no such file or folder"
        case .unreadable(let path, let reason): return "\(path): cannot read: \(reason)"
        case .unwritable(let path, let reason): return "\(path): cannot write: \(reason)"
        case .badHeader(let path, let reason): return "\(path): bad header: \(reason)"
        case .unknownFormat(let path): return "\(path): cannot tell the dataset format (pass --format)"
        case .missingImage(let sample): return "sample \(sample): has no image"
        case .noEncoder(let sample): return "sample \(sample): holds decoded pixels but no image encoder was given"
        case .invalidArgument(let what): return what
        }
    }
}

/// A record a reader left out, and why. `line` is a 1-based line number for line formats and
/// the byte offset of the member header for tar shards.
public struct SkippedRecord: Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var reason: String

    public init(file: String, line: Int?, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String {
        if let line { return "\(file):\(line): \(reason)" }
        return "\(file): \(reason)"
    }
}
