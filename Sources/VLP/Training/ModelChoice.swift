import Foundation

/// Which model a run trains: a named configuration shipped with the package
/// (`ModelConfigurationRegistry`), a configuration file, or a configuration built in code.
public enum ModelChoice: Equatable, Sendable {
    /// A named configuration (`r2d2-tiny`, `r2d2-tiny-dual`, …).
    case named(String)
    /// A JSON configuration file (a checkpoint's `config.json`, or the user's own).
    case file(String)
    /// A configuration built in code.
    case configuration(VLPModelConfiguration)

    /// The configuration, loaded and validated.
    public func resolve() throws -> VLPModelConfiguration {
        switch self {
        case .named(let name): return try ModelConfigurationRegistry.load(name)
        case .file(let path): return try ModelConfigurationRegistry.load(contentsOf: URL(fileURLWithPath: path))
        case .configuration(let configuration):
            try configuration.validate(source: "model")
            return configuration
        }
    }

    /// A name for logs and the default output folder: the configuration's name, the file's
    /// name without `.json`, or `custom`.
    public var name: String {
        switch self {
        case .named(let name): return name
        case .file(let path): return URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        case .configuration: return "custom"
        }
    }
}
