/// Escaping of text placed into HTML or SVG: in element content and in double- or single-quoted
/// attribute values alike, so one function serves both and nothing a caller passes can open a
/// tag, an entity or an attribute.
enum HTMLEscape {
    static func text(_ string: String) -> String {
        var out = ""
        out.reserveCapacity(string.utf8.count)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters other than tab, newline and carriage return are not allowed
                // in XML 1.0 (SVG must stay parseable); drop them.
                if scalar.value < 0x20 && scalar != "\t" && scalar != "\n" && scalar != "\r" { continue }
                if scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
