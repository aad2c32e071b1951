/// Why a model could not be built, loaded or run; each case names the file, key or input at fault.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// A file that should be there is not; `hint` says how to get it.
    case missingFile(path: String, hint: String)
    case unreadableFile(path: String, reason: String)
    /// A configuration (file or named) whose values do not make a model.
    case invalidConfiguration(source: String, reason: String)
    /// A named configuration that the registry does not hold.
    case unknownConfiguration(name: String, available: [String])
    /// A checkpoint whose keys or values do not fit, beyond what `StateDictError` reports.
    case invalidCheckpoint(source: String, reason: String)
    /// An argument of a forward call with the wrong shape, type or value.
    case invalidInput(name: String, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let path, let hint): return "missing \(path): \(hint)"
        case .unreadableFile(let path, let reason): return "cannot read \(path): \(reason)"
        case .invalidConfiguration(let source, let reason): return "model configuration \(source): \(reason)"
        case .unknownConfiguration(let name, let available):
            return "no model configuration named \"\(name)\"; available: \(available.joined(separator: ", "))"
        case .invalidCheckpoint(let source, let reason): return "checkpoint \(source): \(reason)"
        case .invalidInput(let name, let reason): return "invalid \(name): \(reason)"
        }
    }
}
