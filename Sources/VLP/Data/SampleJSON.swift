import Foundation

/// The JSON form of texts and labels shared by the jsonl and WebDataset formats:
/// `{"text": "…", "kind": "title", "lang": "zh", "role": "negative:count", "id": "7"}`
/// (only `text` required; `kind` defaults to `caption`, `role` to `original`).
enum SampleJSON {
    static func object(_ text: SampleText) -> [String: Any] {
        var object: [String: Any] = ["text": text.text]
        if text.kind != .caption { object["kind"] = text.kind.rawValue }
        if let language = text.language { object["lang"] = language }
        if text.role != .original { object["role"] = text.role.name }
        if let id = text.id { object["id"] = id }
        return object
    }

    enum TextProblem: Error, CustomStringConvertible {
        case notAnObject, noText, unknownKind(String), unknownRole(String)
        var description: String {
            switch self {
            case .notAnObject: return "a text entry is not an object"
            case .noText: return "a text entry has no \"text\" string"
            case .unknownKind(let kind): return "unknown text kind \"\(kind)\""
            case .unknownRole(let role): return "unknown text role \"\(role)\""
            }
        }
    }

    static func text(_ value: Any, defaultLanguage: String?) throws -> SampleText {
        guard let object = value as? [String: Any] else { throw TextProblem.notAnObject }
        guard let text = object["text"] as? String else { throw TextProblem.noText }
        var kind = TextKind.caption
        if let name = object["kind"] as? String {
            guard let parsed = TextKind(rawValue: name) else { throw TextProblem.unknownKind(name) }
            kind = parsed
        }
        var role = TextRole.original
        if let name = object["role"] as? String {
            guard let parsed = TextRole(name: name) else { throw TextProblem.unknownRole(name) }
            role = parsed
        }
        return SampleText(text, kind: kind, language: object["lang"] as? String ?? defaultLanguage,
                          role: role, id: identifier(object["id"]))
    }

    /// A string or integer id as text.
    static func identifier(_ value: Any?) -> String? {
        switch value {
        case let string as String: return string
        case let number as NSNumber:
            if isBoolean(number) { return nil }
            let int = number.int64Value
            return Double(int) == number.doubleValue ? String(int) : nil
        default: return nil
        }
    }

    /// JSON `true`/`false` arrive as NSNumbers of C type `char`.
    static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    /// A label given as an integer, a boolean, or a string holding an integer.
    static func label(_ value: Any?) -> Int?? {
        switch value {
        case nil, is NSNull: return .some(nil)
        case let string as String: return Int(string).map { .some($0) } ?? nil
        case let number as NSNumber:
            if isBoolean(number) { return .some(number.boolValue ? 1 : 0) }
            let int = number.int64Value
            return Double(int) == number.doubleValue ? .some(Int(int)) : nil
        default: return nil
        }
    }

    static func parseObject(_ line: Data) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: line, options: [])
        guard let object = value as? [String: Any] else { throw ParseProblem.notAnObject }
        return object
    }

    enum ParseProblem: Error, CustomStringConvertible {
        case notAnObject
        var description: String { "the line is JSON but not an object" }
    }

    /// One line of JSON with keys sorted, `/` unescaped and non-ASCII kept as UTF-8.
    static func line(_ object: [String: Any]) throws -> Data {
        var data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        data.append(0x0A)
        return data
    }

    /// A short description of a JSON parse failure.
    static func describe(_ error: Error) -> String {
        if let problem = error as? ParseProblem { return problem.description }
        let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
        return "bad JSON" + (text.map { ": \($0)" } ?? "")
    }
}

/// File names made from sample ids: anything but letters, digits (any script), `-`, `_`, `.`
/// becomes `_`; a leading `.` gets a `_` before it.
enum SafeFileName {
    static func from(_ id: String) -> String {
        var name = String(id.map { c -> Character in
            c.isLetter || c.isNumber || c == "-" || c == "_" || c == "." ? c : "_"
        })
        if name.isEmpty || name.hasPrefix(".") { name = "_" + name }
        return name
    }
}
