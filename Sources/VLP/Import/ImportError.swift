/// Why an import could not write its bundle.
public enum ImportError: Error, CustomStringConvertible, Equatable {
    /// The output folder is there and may not be replaced.
    case outputExists(path: String, reason: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .outputExists(let path, let reason): return "output \(path): \(reason)"
        case .cannotWrite(let path, let reason): return "cannot write \(path): \(reason)"
        }
    }
}
