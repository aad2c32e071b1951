import Foundation

/// Character classes of BERT's basic tokenizer (Google's `tokenization.py`, which cn-clip copies,
/// and Hugging Face's `BertNormalizer` + `BertPreTokenizer`), precomputed for the Basic
/// Multilingual Plane so that the hot loop makes one table read per scalar. Scalars above the
/// BMP are classified on the fly.
enum BertCharacterClasses {
    /// Cc or Cf, except tab, newline and carriage return (these count as whitespace).
    static let control: UInt8 = 1
    /// Cn (unassigned) or Co (private use): removed too by Hugging Face's normalizer.
    static let unassignedOrPrivate: UInt8 = 2
    /// Space, tab, newline, carriage return, Zs, Zl, Zp.
    static let whitespace: UInt8 = 4
    /// ASCII non-alphanumeric symbols or a P* category.
    static let punctuation: UInt8 = 8

    /// Flags of every BMP scalar.
    static let bmpFlags: [UInt8] = (0..<0x10000).map { value in
        Unicode.Scalar(UInt32(value)).map(classify) ?? unassignedOrPrivate
    }

    @inline(__always)
    static func flags(_ scalar: UInt32) -> UInt8 {
        if scalar < 0x10000 { return bmpFlags.withUnsafeBufferPointer { $0[Int(scalar)] } }
        return Unicode.Scalar(scalar).map(classify) ?? 0
    }

    static func classify(_ scalar: Unicode.Scalar) -> UInt8 {
        let v = scalar.value
        if v == 0x20 || v == 0x09 || v == 0x0A || v == 0x0D { return whitespace }
        var flags: UInt8 = 0
        switch scalar.properties.generalCategory {
        case .control, .format: flags |= control
        case .unassigned, .privateUse, .surrogate: flags |= unassignedOrPrivate
        case .spaceSeparator, .lineSeparator, .paragraphSeparator: flags |= whitespace
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            flags |= punctuation
        default: break
        }
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) {
            flags |= punctuation
        }
        return flags
    }

    /// CJK ideographs that BERT makes tokens of their own. Google's list (cn-clip) starts
    /// Extension E at U+2B820; Hugging Face's at U+2B920.
    @inline(__always)
    static func isChinese(_ v: UInt32, extensionEStart: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0xF900...0xFAFF).contains(v)
            || (v >= 0x20000 && (v <= 0x2A6DF || (0x2A700...0x2B81F).contains(v)
                || (extensionEStart...0x2CEAF).contains(v) || (0x2F800...0x2FA1F).contains(v)))
    }

    // MARK: Lower-casing and accent stripping

    /// For each BMP scalar, -1 when lower-casing then stripping accents (NFD, drop Mn) leaves it
    /// unchanged, else the index in `foldedScalars` of its replacement: a count, then scalars.
    private static let foldTable: (index: [Int32], scalars: [UInt32]) = {
        var index = [Int32](repeating: -1, count: 0x10000)
        var scalars: [UInt32] = []
        for value in 0x80..<0x10000 {
            guard let scalar = Unicode.Scalar(UInt32(value)) else { continue }
            let folded = fold(scalar, lowercase: true, stripAccents: true)
            if folded.count == 1 && folded[0] == UInt32(value) { continue }
            index[value] = Int32(scalars.count)
            scalars.append(UInt32(folded.count))
            scalars.append(contentsOf: folded)
        }
        return (index, scalars)
    }()

    /// Appends the lower-cased and accent-stripped form of `scalar` to `output`.
    @inline(__always)
    static func appendFolded(_ scalar: UInt32, lowercase: Bool, stripAccents: Bool, to output: inout [UInt32]) {
        if scalar < 0x80 {
            output.append(lowercase && scalar >= 0x41 && scalar <= 0x5A ? scalar + 32 : scalar)
        } else if lowercase && stripAccents && scalar < 0x10000 {
            let start = foldTable.index.withUnsafeBufferPointer { $0[Int(scalar)] }
            if start < 0 {
                output.append(scalar)
            } else {
                foldTable.scalars.withUnsafeBufferPointer { folded in
                    let count = Int(folded[Int(start)])
                    output.append(contentsOf: folded[Int(start) + 1 ..< Int(start) + 1 + count])
                }
            }
        } else if let s = Unicode.Scalar(scalar) {
            output.append(contentsOf: fold(s, lowercase: lowercase, stripAccents: stripAccents))
        }
    }

    /// Python's `lower()` of one scalar (full mapping, e.g. U+0130 → "i̇"), then, when asked,
    /// `unicodedata.normalize("NFD", …)` with the Mn (non-spacing marks) removed.
    static func fold(_ scalar: Unicode.Scalar, lowercase: Bool, stripAccents: Bool) -> [UInt32] {
        var text = lowercase ? scalar.properties.lowercaseMapping : String(scalar)
        if stripAccents {
            text = text.decomposedStringWithCanonicalMapping
            return text.unicodeScalars.filter { $0.properties.generalCategory != .nonspacingMark }.map(\.value)
        }
        return text.unicodeScalars.map(\.value)
    }

    /// Python's final-sigma rule: capital sigma lower-cases to ς when a cased letter precedes it
    /// and none follows (case-ignorable characters skipped both ways), else to σ.
    static func lowercaseSigma(in text: UnsafeBufferPointer<UInt32>, at i: Int) -> UInt32 {
        func cased(_ v: UInt32) -> Bool? { // nil: case-ignorable, skip it
            guard let s = Unicode.Scalar(v) else { return false }
            if s.properties.isCaseIgnorable { return nil }
            return s.properties.isCased
        }
        var before = false
        var j = i - 1
        while j >= 0 {
            if let c = cased(text[j]) { before = c; break }
            j -= 1
        }
        guard before else { return 0x3C3 }
        j = i + 1
        while j < text.count {
            if let c = cased(text[j]) { return c ? 0x3C3 : 0x3C2 }
            j += 1
        }
        return 0x3C2
    }
}
