import Foundation
import Hummingbird

/// What a search request's query string asks for: `q` (the text, for `GET /api/search`), `k`
/// (results), `target` (`images` or `texts`) and `rerank` (candidates the cross encoders
/// re-order). Values are decoded as HTML forms and `curl --data-urlencode` encode them: `+` is a
/// space, then percent escapes (Hummingbird's `queryParameters` keeps `+`, which would search for
/// "two+green+circles"). The first occurrence of a name counts. Anything malformed is a 400
/// saying what: a search for the undecoded text would answer a question nobody asked.
public struct SearchParameters: Equatable, Sendable {
    /// Results when `k` is not given.
    public static let defaultCount = 12

    /// The text query; nil when `q` is absent.
    public var text: String?
    public var count: Int
    public var target: SearchIndex.Target
    public var rerank: Int

    /// Parses a query string (the part after `?`; nil when the URI has none).
    public init(query: String?) throws {
        text = try Self.formValue("q", in: query)
        count = try Self.integer("k", in: query) ?? Self.defaultCount
        rerank = try Self.integer("rerank", in: query) ?? 0
        if let name = try Self.formValue("target", in: query) {
            guard let target = SearchIndex.Target(rawValue: name) else {
                throw HTTPError(.badRequest, message: "target must be images or texts, not \"\(name.prefix(200))\"")
            }
            self.target = target
        } else {
            target = .images
        }
    }

    /// A whole-number value, nil when absent.
    static func integer(_ name: String, in query: String?) throws -> Int? {
        guard let text = try formValue(name, in: query) else { return nil }
        guard let value = Int(text) else { throw HTTPError(.badRequest, message: "\(name) must be a whole number, not \"\(text.prefix(200))\"") }
        return value
    }

    /// The decoded value of `name`, nil when absent. An escape that is not two hex digits, or
    /// escapes that do not spell UTF-8, are a 400.
    static func formValue(_ name: String, in query: String?) throws -> String? {
        guard let query else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts[0] == name else { continue }
            let raw = parts.count > 1 ? parts[1].replacingOccurrences(of: "+", with: " ") : ""
            guard let value = raw.removingPercentEncoding else {
                throw HTTPError(.badRequest, message: "\(name) is not valid percent-encoded UTF-8: \"\(raw.prefix(200))\"")
            }
            return value
        }
        return nil
    }
}
