/// The first pass of the frequency rule: for each positive text of a part, how many distinct
/// images carry it. Texts are keyed by a hash of their cleaned, lower-cased form and images by a
/// hash of their file path or content, so memory grows with the number of distinct texts and not
/// with the samples; a text's image hashes are kept only until it passes the limit.
public struct TextImageCounter {
    /// Counting stops at `limit + 1`: past the limit a text is dropped whatever its count.
    public let limit: Int
    private var entries: [Int: Entry] = [:]

    private enum Entry {
        case images([Int])
        case overLimit
    }

    public init(limit: Int) {
        self.limit = limit
    }

    /// Notes that the image `image` carries the text `text` (both hashes; see `DataFilter.textKey`).
    public mutating func add(text: Int, image: Int) {
        switch entries[text] {
        case .overLimit?:
            return
        case .images(var images)?:
            guard !images.contains(image) else { return }
            images.append(image)
            entries[text] = images.count > limit ? .overLimit : .images(images)
        case nil:
            entries[text] = limit >= 1 ? .images([image]) : .overLimit
        }
    }

    /// True when more than `limit` distinct images carry the text.
    public func isOverLimit(_ text: Int) -> Bool {
        if case .overLimit? = entries[text] { return true }
        return false
    }

    /// The number of distinct images that carry the text, up to `limit + 1`.
    public func imageCount(_ text: Int) -> Int {
        switch entries[text] {
        case .overLimit?: return limit + 1
        case .images(let images)?: return images.count
        case nil: return 0
        }
    }

    /// Distinct texts seen, and how many of them are over the limit.
    public var textCount: Int { entries.count }
    public var overLimitCount: Int { entries.values.reduce(0) { count, entry in
        if case .overLimit = entry { return count + 1 }
        return count
    } }
}
