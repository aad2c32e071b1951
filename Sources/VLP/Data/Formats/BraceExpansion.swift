/// Shell-style brace expansion for shard lists, as WebDataset writes them:
/// `shard-{000..099}.tar` (numeric ranges keep the zero padding of the wider end, and may run
/// downwards), `{train,val}-{0..3}.tar` (lists), nested braces. Text without braces comes back
/// as it is.
public enum BraceExpansion {
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case unbalanced(String)
        case tooMany(String)
        public var description: String {
            switch self {
            case .unbalanced(let pattern): return "unbalanced braces in \(pattern.debugDescription)"
            case .tooMany(let pattern): return "\(pattern.debugDescription) expands to more than \(BraceExpansion.limit) names"
            }
        }
    }

    /// Expansions larger than this are refused (a typo like `{0..99999999}`).
    public static let limit = 1_000_000

    public static func expand(_ pattern: String) throws -> [String] {
        let result = try expand(Array(pattern), pattern: pattern)
        return result.map { String($0) }
    }

    private static func expand(_ chars: [Character], pattern: String) throws -> [[Character]] {
        // Find the first top-level brace group that is a list or a range.
        var depth = 0
        var open: Int?
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "{" {
                if depth == 0 { open = i }
                depth += 1
            } else if c == "}" {
                guard depth > 0 else { throw Problem.unbalanced(pattern) }
                depth -= 1
                if depth == 0, let start = open {
                    let body = Array(chars[(start + 1)..<i])
                    if let alternatives = try alternatives(body, pattern: pattern) {
                        let prefix = Array(chars[..<start])
                        let suffixes = try expand(Array(chars[(i + 1)...]), pattern: pattern)
                        var out: [[Character]] = []
                        for alternative in alternatives {
                            for expanded in try expand(alternative, pattern: pattern) {
                                for suffix in suffixes {
                                    out.append(prefix + expanded + suffix)
                                    if out.count > limit { throw Problem.tooMany(pattern) }
                                }
                            }
                        }
                        return out
                    }
                    open = nil   // a literal group such as `{}` or `{x}`: keep looking after it
                }
            }
            i += 1
        }
        guard depth == 0 else { throw Problem.unbalanced(pattern) }
        return [chars]
    }

    /// The alternatives of a brace body: comma-separated parts at depth 0, or a numeric range
    /// `a..b`; nil when the body is neither (then the braces are literal).
    private static func alternatives(_ body: [Character], pattern: String) throws -> [[Character]]? {
        var parts: [[Character]] = [[]]
        var depth = 0
        for c in body {
            if c == "{" { depth += 1 }
            if c == "}" { depth -= 1 }
            if c == ",", depth == 0 { parts.append([]) } else { parts[parts.count - 1].append(c) }
        }
        if parts.count > 1 { return parts }
        let text = String(body)
        let ends = text.components(separatedBy: "..")
        guard ends.count == 2, let low = Int(ends[0]), let high = Int(ends[1]),
              !ends[0].hasPrefix("+"), !ends[1].hasPrefix("+")
        else { return nil }
        guard abs(high - low) < limit else { throw Problem.tooMany(pattern) }
        func padded(_ s: String) -> Bool { s.count > 1 && (s.hasPrefix("0") || s.hasPrefix("-0")) }
        let width = padded(ends[0]) || padded(ends[1]) ? max(ends[0].count, ends[1].count) : 0
        let values = low <= high ? Array(low...high) : Array((high...low).reversed())
        return values.map { value in
            var digits = String(abs(value))
            let sign = value < 0 ? "-" : ""
            while sign.count + digits.count < width { digits = "0" + digits }
            return Array(sign + digits)
        }
    }
}
