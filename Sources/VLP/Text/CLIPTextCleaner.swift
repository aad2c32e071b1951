import Foundation

/// The text clean-up of open_clip's `SimpleTokenizer` (`clean="lower"`):
/// `ftfy.fix_text`, `html.unescape` twice, strip, collapse whitespace, lower-case.
///
/// Of `ftfy.fix_text` (ftfy 6 defaults) we implement, in ftfy's order and repeated until the text
/// stops changing: HTML entity decoding (off for the rest of the text once a line holds `<`),
/// C1 controls as Windows-1252, Latin ligatures (ﬁ → fi), full/half-width forms and U+3000 to
/// their standard forms, curly quotes to straight ones, line breaks to `\n`, terminal (ANSI)
/// escapes removed, invisible control characters removed, NFC. We do not implement ftfy's
/// mojibake repair (`fix_encoding`: guessing that UTF-8 was decoded as Latin-1 and re-decoding),
/// so text that ftfy would re-decode keeps its mojibake here. Entities are decoded from the
/// table in `HTMLEntities` (HTML 4's names plus numeric references), not HTML5's full list.
public enum CLIPTextCleaner {
    public static func clean(_ text: String) -> String {
        let fixed = fixText(text)
        let unescaped = HTMLEntities.unescape(HTMLEntities.unescape(fixed))
        return unescaped.pythonWhitespaceCollapsed().pythonLowercased()
    }

    /// The implemented part of `ftfy.fix_text`: line by line (each segment ends after `\n`).
    public static func fixText(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "&") }) { return text }
        var out = ""
        var decodesEntities = true
        var remaining = Substring(text)
        while !remaining.isEmpty {
            let end = remaining.unicodeScalars.firstIndex(of: "\n").map { remaining.unicodeScalars.index(after: $0) }
                ?? remaining.endIndex
            let segment = String(remaining[..<end])
            remaining = remaining[end...]
            if segment.contains("<") { decodesEntities = false }
            out += fixSegment(segment, decodesEntities: decodesEntities)
        }
        return out
    }

    private static func fixSegment(_ text: String, decodesEntities: Bool) -> String {
        var text = text
        for _ in 0..<16 {
            let original = text
            if decodesEntities { text = HTMLEntities.unescapeStrict(text) }
            var scalars = mapScalars(text)
            scalars = removingTerminalEscapes(scalars)
            scalars.removeAll(where: isInvisibleControl)
            text = String(String.UnicodeScalarView(scalars)).precomposedStringWithCanonicalMapping
            if text == original { break }
        }
        return text
    }

    /// C1 controls, ligatures, character width, curly quotes and line breaks: the per-character
    /// fixes, in ftfy's order.
    private static func mapScalars(_ text: String) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.unicodeScalars.count)
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            var s = scalar
            if (0x80...0x9F).contains(s.value) { s = Windows1252.scalar(forByte: UInt8(s.value)) }
            var mapped: [Unicode.Scalar]
            if let ligature = ligatures[s.value] {
                mapped = Array(ligature.unicodeScalars)
            } else if let width = widthMap[s.value] {
                mapped = Array(width.unicodeScalars)
            } else {
                mapped = [s]
            }
            for m in mapped {
                switch m.value {
                case 0x02BC, 0x2018...0x201B: out.append("'")
                case 0x201C...0x201F: out.append("\"")
                case 0x0A where previousWasCR: break // "\r\n" → "\n"
                case 0x0D, 0x2028, 0x2029, 0x85: out.append("\n")
                default: out.append(m)
                }
                previousWasCR = m.value == 0x0D
            }
        }
        return out
    }

    /// ftfy's `remove_control_chars`.
    private static func isInvisibleControl(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x00...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0x206A...0x206F, 0xFEFF, 0xFFF9...0xFFFC: return true
        default: return false
        }
    }

    /// Removes ESC [ (digits or semicolons) letter.
    private static func removingTerminalEscapes(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard s.contains("\u{1B}") else { return s }
        var out: [Unicode.Scalar] = []
        var i = 0
        while i < s.count {
            if s[i] == "\u{1B}", i + 1 < s.count, s[i + 1] == "[" {
                var j = i + 2
                while j < s.count, ("0"..."9").contains(s[j]) || s[j] == ";" { j += 1 }
                if j < s.count, ("a"..."z").contains(s[j]) || ("A"..."Z").contains(s[j]) { i = j + 1; continue }
            }
            out.append(s[i]); i += 1
        }
        return out
    }

    private static let ligatures: [UInt32: String] = [
        0x0132: "IJ", 0x0133: "ij", 0x0149: "ʼn", 0x01F1: "DZ", 0x01F2: "Dz", 0x01F3: "dz",
        0x01C4: "DŽ", 0x01C5: "Dž", 0x01C6: "dž", 0x01C7: "LJ", 0x01C8: "Lj", 0x01C9: "lj",
        0x01CA: "NJ", 0x01CB: "Nj", 0x01CC: "nj", 0xFB00: "ff", 0xFB01: "fi", 0xFB02: "fl",
        0xFB03: "ffi", 0xFB04: "ffl", 0xFB05: "ſt", 0xFB06: "st",
    ]

    /// U+3000 → space; each of U+FF01…U+FFEF → its NFKC form when that differs.
    private static let widthMap: [UInt32: String] = {
        var map: [UInt32: String] = [0x3000: " "]
        for value in UInt32(0xFF01)..<0xFFF0 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let original = String(scalar)
            let compatible = original.precomposedStringWithCompatibilityMapping
            if compatible.unicodeScalars.elementsEqual(original.unicodeScalars) == false { map[value] = compatible }
        }
        return map
    }()
}
