import Foundation

/// Where a configuration given to `vlp import --config` departs from the one read from the
/// checkpoint, field by field through their JSON form (so every field counts, present and
/// future): "text_cross.layers is 6, the checkpoint's 2". Dropout rates are not compared: they
/// are a training choice the weights do not fix, and the given configuration's stand.
enum ConfigurationDifference {
    static func between(_ given: VLPModelConfiguration, _ found: VLPModelConfiguration) throws -> [String] {
        let encoder = JSONEncoder()
        let a = try JSONSerialization.jsonObject(with: encoder.encode(given))
        let b = try JSONSerialization.jsonObject(with: encoder.encode(found))
        var differences: [String] = []
        try compare(a, b, path: "", into: &differences)
        return differences
    }

    private static func compare(_ a: Any, _ b: Any, path: String, into differences: inout [String]) throws {
        if let a = a as? [String: Any], let b = b as? [String: Any] {
            for key in Set(a.keys).union(b.keys).sorted() {
                let field = path.isEmpty ? key : path + "." + key
                if key.contains("dropout") { continue }
                switch (a[key], b[key]) {
                case let (x?, y?): try compare(x, y, path: field, into: &differences)
                case let (x?, nil): differences.append("\(field) is \(try describe(x)), the checkpoint has none")
                case let (nil, y?): differences.append("\(field) is not given, the checkpoint's is \(try describe(y))")
                case (nil, nil): break
                }
            }
            return
        }
        let (x, y) = (try describe(a), try describe(b))
        if x != y { differences.append("\(path) is \(x), the checkpoint's \(y)") }
    }

    /// A JSON value as JSON text (keys sorted), so equal values read alike.
    private static func describe(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
    }
}
