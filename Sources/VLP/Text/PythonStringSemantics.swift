/// Python's `str.lower()`, which the reference tokenizers apply: the full lower-case mapping of
/// every scalar (U+0130 → "i̇"), and capital sigma → ς at the end of a word (a cased letter
/// before it, none after it, case-ignorable characters skipped), else σ.
extension String {
    func pythonLowercased() -> String {
        if utf8.allSatisfy({ $0 < 0x80 }) { return lowercased() }
        let scalars = Array(unicodeScalars)
        var out = String.UnicodeScalarView()
        for (i, scalar) in scalars.enumerated() {
            if scalar.value == 0x3A3 {
                out.append(Unicode.Scalar(Self.sigma(scalars, at: i))!)
            } else if scalar.properties.changesWhenLowercased {
                out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    private static func sigma(_ scalars: [Unicode.Scalar], at i: Int) -> UInt32 {
        let values = scalars.map(\.value)
        return values.withUnsafeBufferPointer { BertCharacterClasses.lowercaseSigma(in: $0, at: i) }
    }

    /// Python's `" ".join(text.split())`: runs of whitespace (as `str.isspace()` defines it)
    /// become one space, with none at the ends.
    func pythonWhitespaceCollapsed() -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in unicodeScalars {
            if scalar.isPythonWhitespace {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" "); pendingSpace = false }
                out.append(scalar)
            }
        }
        return String(out)
    }
}

extension String {
    /// The string without leading and trailing whitespace, as Python's `str.strip()` defines it.
    func trimmingPythonWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.isPythonWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.isPythonWhitespace })!
        return String(scalars[first...last])
    }
}

extension Unicode.Scalar {
    /// Python's `str.isspace()`: the characters `str.split()` and `str.strip()` split on.
    var isPythonWhitespace: Bool {
        switch value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }
}
