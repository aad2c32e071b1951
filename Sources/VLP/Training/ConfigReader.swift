import Foundation
import Yams

/// A configuration problem: which file, which key, what is wrong, what is allowed.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Reads one YAML mapping with errors that name the file, the key's dotted path and line, and
/// the allowed values; every key must be read or listed, so a misspelt key is an error rather
/// than silently ignored.
public struct ConfigReader {
    public let source: String
    public let path: String
    let mapping: Node.Mapping
    let line: Int?

    /// The top-level mapping of a YAML text.
    public init(yaml: String, source: String) throws {
        let node: Node?
        do { node = try Yams.compose(yaml: yaml) } catch {
            throw ConfigError("\(source): not valid YAML: \(error)")
        }
        guard let node, let mapping = node.mapping else {
            throw ConfigError("\(source): the top level must be a mapping of keys (model:, recipe:, data:, …)")
        }
        try Self.checkDuplicateKeys(node, path: "", source: source)
        self.init(source: source, path: "", mapping: mapping, line: node.mark.map { $0.line })
    }

    init(source: String, path: String, mapping: Node.Mapping, line: Int?) {
        self.source = source
        self.path = path
        self.mapping = mapping
        self.line = line
    }

    /// Throws on a key given twice in any mapping under `node`: YAML readers let the last one
    /// win silently, which would hide a typo'd or forgotten line.
    static func checkDuplicateKeys(_ node: Node, path: String, source: String) throws {
        switch node {
        case .mapping(let mapping):
            var firstLines: [String: Int?] = [:]
            for (key, value) in mapping {
                let name = key.string ?? "\(key)"
                let keyPath = path.isEmpty ? name : "\(path).\(name)"
                if let firstLine = firstLines[name] {
                    let at = key.mark.map { " on line \($0.line)" } ?? ""
                    let first = firstLine.map { " (first on line \($0))" } ?? ""
                    throw ConfigError("\(source): duplicate key \"\(keyPath)\"\(at)\(first); give each key once")
                }
                firstLines[name] = key.mark.map { $0.line }
                try checkDuplicateKeys(value, path: keyPath, source: source)
            }
        case .sequence(let items):
            for (index, item) in items.enumerated() { try checkDuplicateKeys(item, path: "\(path)[\(index)]", source: source) }
        case .scalar:
            break
        }
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func node(_ key: String) -> Node? { mapping[Node(key)] }

    func fail(_ key: String, _ reason: String) -> ConfigError {
        let where_ = node(key)?.mark.map { " (line \($0.line))" } ?? ""
        return ConfigError("\(source): \(keyPath(key))\(where_): \(reason)")
    }

    /// Throws on any key not in `allowed`, naming it and the allowed ones.
    public func checkKeys(_ allowed: [String]) throws {
        for (key, value) in mapping {
            let name = key.string ?? "\(key)"
            guard allowed.contains(name) else {
                let at = value.mark.map { " (line \($0.line))" } ?? ""
                throw ConfigError("\(source): unknown key \"\(keyPath(name))\"\(at); allowed here: \(allowed.joined(separator: ", "))")
            }
        }
    }

    public func has(_ key: String) -> Bool { node(key) != nil }

    public func string(_ key: String) throws -> String? {
        guard let n = node(key) else { return nil }
        guard let s = n.scalar?.string else { throw fail(key, "expected a text value") }
        return s
    }

    public func string(_ key: String, default value: String) throws -> String { try string(key) ?? value }

    /// A value among `allowed`.
    public func choice(_ key: String, allowed: [String], default value: String) throws -> String {
        let s = try string(key) ?? value
        guard allowed.contains(s) else { throw notAllowed(key, s, allowed) }
        return s
    }

    /// A case of a closed set given by its raw value; `value` when the key is absent.
    public func choice<Value: RawRepresentable & CaseIterable>(_ key: String, default value: Value) throws -> Value
    where Value.RawValue == String {
        try optionalChoice(key) ?? value
    }

    /// A case of a closed set given by its raw value; nil when the key is absent.
    public func optionalChoice<Value: RawRepresentable & CaseIterable>(_ key: String, as type: Value.Type = Value.self) throws -> Value?
    where Value.RawValue == String {
        guard let s = try string(key) else { return nil }
        guard let value = Value(rawValue: s) else { throw notAllowed(key, s, Value.allCases.map(\.rawValue)) }
        return value
    }

    /// A list of cases of a closed set (one value alone counts as a list of one); nil when absent.
    public func choices<Value: RawRepresentable & CaseIterable>(_ key: String, as type: Value.Type = Value.self) throws -> [Value]?
    where Value.RawValue == String {
        try strings(key)?.map { s in
            guard let value = Value(rawValue: s) else { throw notAllowed(key, s, Value.allCases.map(\.rawValue)) }
            return value
        }
    }

    func notAllowed(_ key: String, _ value: String, _ allowed: [String]) -> ConfigError {
        fail(key, "\"\(value)\" is not allowed; allowed values: \(allowed.joined(separator: ", "))")
    }

    /// An integer, nil when the key is absent.
    public func optionalInt(_ key: String, range: ClosedRange<Int>? = nil) throws -> Int? {
        guard let n = node(key) else { return nil }
        guard let s = n.scalar?.string, let v = Int(s.replacingOccurrences(of: "_", with: "")) else {
            throw fail(key, "expected an integer, got \"\(n.scalar?.string ?? "a \(n)")\"")
        }
        if let range, !range.contains(v) { throw fail(key, "\(v) is outside \(range.lowerBound)…\(range.upperBound)") }
        return v
    }

    public func int(_ key: String, default value: Int, range: ClosedRange<Int>? = nil) throws -> Int {
        try optionalInt(key, range: range) ?? value
    }

    public func double(_ key: String, default value: Double, range: ClosedRange<Double>? = nil) throws -> Double {
        guard let n = node(key) else { return value }
        guard let s = n.scalar?.string, let v = Double(s) else { throw fail(key, "expected a number, got \"\(n.scalar?.string ?? "a \(n)")\"") }
        if let range, !range.contains(v) { throw fail(key, "\(v) is outside \(range.lowerBound)…\(range.upperBound)") }
        return v
    }

    public func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let n = node(key) else { return value }
        guard let v = n.bool else { throw fail(key, "expected true or false") }
        return v
    }

    public func strings(_ key: String) throws -> [String]? {
        guard let n = node(key) else { return nil }
        if let s = n.scalar?.string { return [s] }
        guard let items = n.sequence else { throw fail(key, "expected a list of texts") }
        return try items.map { item in
            guard let s = item.scalar?.string else { throw fail(key, "expected a list of texts") }
            return s
        }
    }

    public func doubles(_ key: String) throws -> [Double]? {
        guard let n = node(key) else { return nil }
        guard let items = n.sequence else { throw fail(key, "expected a list of numbers") }
        return try items.map { item in
            guard let s = item.scalar?.string, let v = Double(s) else { throw fail(key, "expected a list of numbers") }
            return v
        }
    }

    /// A nested mapping.
    public func section(_ key: String) throws -> ConfigReader? {
        guard let n = node(key) else { return nil }
        guard let m = n.mapping else { throw fail(key, "expected a mapping (key: value lines indented below it)") }
        return ConfigReader(source: source, path: keyPath(key), mapping: m, line: n.mark.map { $0.line })
    }

    /// A list of mappings.
    public func sections(_ key: String) throws -> [ConfigReader]? {
        guard let n = node(key) else { return nil }
        guard let items = n.sequence else { throw fail(key, "expected a list of mappings (lines starting with \"- \")") }
        return try items.enumerated().map { index, item in
            guard let m = item.mapping else { throw fail(key, "item \(index) is not a mapping") }
            return ConfigReader(source: source, path: "\(keyPath(key))[\(index)]", mapping: m, line: item.mark.map { $0.line })
        }
    }

    /// True when `key` holds a plain value rather than a mapping.
    public func isScalar(_ key: String) -> Bool { node(key)?.scalar != nil }

    /// A mapping of names to lists of texts (`{zh: [...], en: [...]}`), in the given order.
    public func listTable(_ key: String) throws -> [(String, [String])]? {
        guard let section = try section(key) else { return nil }
        return try section.mapping.map { k, _ in
            guard let name = k.string else { throw fail(key, "expected name: [text, …] lines") }
            guard let texts = try section.strings(name) else { throw section.fail(name, "expected a list of texts") }
            return (name, texts)
        }
    }

    /// The YAML text of the value under `key` (a nested document handed to a `Codable` decoder).
    public func yamlText(_ key: String) throws -> String? {
        guard let n = node(key) else { return nil }
        do { return try Yams.serialize(node: n) } catch { throw fail(key, "cannot be read back: \(error)") }
    }

    /// The mapping's pairs as texts (for weights tables).
    public func numberTable(_ key: String) throws -> [(String, Double)]? {
        guard let section = try section(key) else { return nil }
        return try section.mapping.map { k, v in
            guard let name = k.string, let s = v.scalar?.string, let value = Double(s) else {
                throw fail(key, "expected name: number lines")
            }
            return (name, value)
        }
    }
}
