/// LAIT's heuristic rules for texts that carry no description at all, applied to cleaned text:
/// what is left of an alt attribute that held a file name, a counter or filler.
public enum NoisyTextHeuristics {
    /// Why `text` is noise, or nil when it may be a description.
    public static func reason(_ text: String) -> String? {
        if text.isEmpty { return "empty after cleaning" }
        guard text.unicodeScalars.contains(where: { $0.properties.isAlphabetic }) else { return "no letters" }
        let lowered = text.lowercased()
        if isCameraFileName(lowered) { return "a camera file name" }
        if isImageFileName(lowered) { return "an image file name" }
        let characters = text.filter { !$0.isWhitespace }
        if characters.count >= 2, Set(characters).count == 1 { return "one character repeated" }
        let words = lowered.split(separator: " ")
        if words.count >= 3, Set(words).count == 1 { return "one word repeated" }
        return nil
    }

    static let imageExtensions = ["jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff", "heic"]
    /// File name stems cameras and phones give photos: `IMG_2034`, `DSC01234`, `DSCF0042`, `P1010001`.
    static let cameraPrefixes = ["img", "image", "dsc", "dscn", "dscf", "dcim", "pic", "pict", "photo", "p", "sam", "gopr", "mvimg", "pxl"]

    /// `name.jpg`: one word (no space) ending in an image extension.
    static func isImageFileName(_ lowered: String) -> Bool {
        guard !lowered.contains(" "), let dot = lowered.lastIndex(of: "."), dot != lowered.startIndex else { return false }
        return imageExtensions.contains(String(lowered[lowered.index(after: dot)...]))
    }

    /// A camera prefix, an optional `_`/`-`, at least three digits, then only digits and `_-() `
    /// (`img_2034 (2)`), with or without an image extension.
    static func isCameraFileName(_ lowered: String) -> Bool {
        var stem = Substring(lowered)
        if let dot = stem.lastIndex(of: "."), imageExtensions.contains(String(stem[stem.index(after: dot)...])) {
            stem = stem[..<dot]
        }
        let letters = stem.prefix { $0.isASCII && $0.isLetter }
        guard cameraPrefixes.contains(String(letters)) else { return false }
        var rest = stem.dropFirst(letters.count)
        if rest.first == "_" || rest.first == "-" { rest = rest.dropFirst() }
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard digits.count >= 3 else { return false }
        return rest.dropFirst(digits.count).allSatisfy { ($0.isASCII && $0.isNumber) || "_-() ".contains($0) }
    }
}
