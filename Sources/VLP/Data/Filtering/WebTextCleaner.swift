import Foundation

/// The clean-up of a web text (alt, title, surrounding text) before the filter judges it, after
/// LAIT's "filter out bad spans": HTML entities decoded, HTML tags and URLs removed, every run of
/// whitespace (line breaks, ideographic spaces) made one space, the ends trimmed. Words are not
/// changed: which texts to drop is for the rules to say.
public enum WebTextCleaner {
    public static func clean(_ text: String) -> String {
        var scalars = Array(HTMLEntities.unescape(text).unicodeScalars)
        if scalars.contains("<") { scalars = removingTags(scalars) }
        scalars = removingURLs(scalars)
        return collapsingWhitespace(scalars)
    }

    /// `<b>`, `</a>`, `<img src=…>`, `<!-- … -->`: a `<` followed by a letter, `/` or `!`, up to
    /// the next `>` with no `<` between. A lone `<` (as in "a < b") stays.
    static func removingTags(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            if s[i] == "<", i + 1 < s.count, s[i + 1].properties.isAlphabetic || s[i + 1] == "/" || s[i + 1] == "!" {
                var j = i + 1
                while j < s.count, s[j] != ">", s[j] != "<" { j += 1 }
                if j < s.count, s[j] == ">" {
                    out.append(" ")
                    i = j + 1
                    continue
                }
            }
            out.append(s[i])
            i += 1
        }
        return out
    }

    /// `http://…`, `https://…` and `www.…` up to the next whitespace, where they start a word.
    static func removingURLs(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        func startsURL(at i: Int) -> Bool {
            for prefix in ["http://", "https://", "www."] {
                let p = Array(prefix.unicodeScalars)
                guard i + p.count <= s.count else { continue }
                if (0..<p.count).allSatisfy({ s[i + $0].properties.lowercaseMapping == String(p[$0]) }) { return true }
            }
            return false
        }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            let atWordStart = i == 0 || s[i - 1].properties.isWhitespace || "([<\"'（【「".unicodeScalars.contains(s[i - 1])
            if atWordStart, s[i] == "h" || s[i] == "H" || s[i] == "w" || s[i] == "W", startsURL(at: i) {
                while i < s.count, !s[i].properties.isWhitespace { i += 1 }
                out.append(" ")
                continue
            }
            out.append(s[i])
            i += 1
        }
        return out
    }

    static func collapsingWhitespace(_ s: [Unicode.Scalar]) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in s {
            // Control characters (other than whitespace) are dropped too, as BERT's tokenizer does.
            if scalar.properties.isWhitespace {
                pendingSpace = !out.isEmpty
            } else if scalar.properties.generalCategory == .control || (scalar.properties.generalCategory == .format && scalar != "\u{200D}") {
                continue
            } else {
                if pendingSpace { out.append(" "); pendingSpace = false }
                out.append(scalar)
            }
        }
        return String(out)
    }
}
