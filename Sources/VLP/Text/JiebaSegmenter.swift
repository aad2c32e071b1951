import Foundation

/// Chinese word segmentation as jieba's default mode (`jieba.lcut(s)`, HMM on): the text is cut
/// into blocks of "word" characters (CJK, ASCII letters and digits, `+#&._%-`) and the rest;
/// within a block every dictionary word starting at each position forms a DAG, the route of
/// maximum probability (sum of log word frequencies) is taken, and runs of single characters
/// that the dictionary does not know as a word are cut again by the HMM (`JiebaHMM`).
///
/// Used for whole-word masking: the characters of one word are masked together.
public struct JiebaSegmenter: Sendable {
    /// Prefix trie of the dictionary: every prefix of a word is a node, valued with the word's
    /// frequency (0 for a prefix that is not itself a word), as jieba's `FREQ` table.
    private let trie: ScalarTrie
    private let root: ScalarTrie.Node
    private let logTotal: Double
    private let hmm: JiebaHMM?

    /// The default dictionary and HMM, loaded once per process (training masks whole words with
    /// it in every run and stage; the dictionary takes a moment to read).
    public static func shared() throws -> JiebaSegmenter {
        sharedLock.lock()
        defer { sharedLock.unlock() }
        if let loaded = sharedInstance { return loaded }
        let loaded = try JiebaSegmenter()
        sharedInstance = loaded
        return loaded
    }

    private static let sharedLock = NSLock()
    nonisolated(unsafe) private static var sharedInstance: JiebaSegmenter?

    /// Loads jieba's `dict.txt` (`word frequency [tag]` a line) and, unless `hmmDirectory` is
    /// nil, the HMM of `finalseg`.
    public init(dictionaryFile: String = "assets/jieba/dict.txt",
                hmmDirectory: String? = "assets/jieba/finalseg") throws {
        let bytes = try AssetFile.read(dictionaryFile)
        var trie = ScalarTrie(defaultValue: 0, expectedNodes: bytes.count / 4)
        let root = trie.addRoot()
        var total: Int64 = 0
        var lineNumber = 0
        var word: [UInt32] = []
        try bytes.withUnsafeBufferPointer { b in
            var i = 0
            while i < b.count {
                lineNumber += 1
                var end = i
                while end < b.count && b[end] != 0x0A { end += 1 }
                defer { i = end + 1 }
                // Python's line.strip() then split(' ')[:2]: the word, then the frequency.
                var s = i, e = end
                while s < e && Self.isASCIISpace(b[s]) { s += 1 }
                while e > s && Self.isASCIISpace(b[e - 1]) { e -= 1 }
                if s == e { continue }
                var space = s
                while space < e && b[space] != 0x20 { space += 1 }
                var f = space + 1
                var frequency: Int64 = 0
                var digits = 0
                while f < e && b[f] >= 0x30 && b[f] <= 0x39 {
                    frequency = frequency * 10 + Int64(b[f] - 0x30)
                    f += 1
                    digits += 1
                }
                guard space < e, digits > 0, f == e || b[f] == 0x20, frequency <= Int64(Int32.max) else {
                    throw TextError.malformedFile(path: dictionaryFile, line: lineNumber,
                                                  reason: "expected `word frequency [tag]`")
                }
                word.removeAll(keepingCapacity: true)
                BasicTokenizer.decode(bytes: UnsafeBufferPointer(rebasing: b[s..<space]), into: &word)
                let node = trie.insert(word, from: root)
                trie.setValue(Int32(frequency), at: node)
                total += frequency
            }
        }
        guard total > 0 else {
            throw TextError.malformedFile(path: dictionaryFile, line: nil, reason: "the dictionary has no words")
        }
        self.trie = trie
        self.root = root
        logTotal = log(Double(total))
        hmm = try hmmDirectory.map { try JiebaHMM(directory: $0) }
    }

    /// The words of `text`, as `jieba.lcut(text, HMM: hmm)`. Requires the HMM to be loaded for
    /// `hmm: true`; without it the dictionary-only mode is used.
    public func cut(_ text: String, hmm useHMM: Bool = true) -> [String] {
        let scalars = BasicTokenizer.decode(text)
        return wordRanges(scalars, hmm: useHMM).map { range in
            String(String.UnicodeScalarView(scalars[range].map { Unicode.Scalar($0)! }))
        }
    }

    /// The words of `text` as ranges of Unicode-scalar offsets (consecutive, covering the text).
    public func wordSpans(_ text: String, hmm useHMM: Bool = true) -> [Range<Int>] {
        wordRanges(BasicTokenizer.decode(text), hmm: useHMM)
    }

    func wordRanges(_ s: [UInt32], hmm useHMM: Bool) -> [Range<Int>] {
        var out: [Range<Int>] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            if Self.isBlockCharacter(s[i]) {
                var j = i + 1
                while j < s.count && Self.isBlockCharacter(s[j]) { j += 1 }
                cutBlock(s, i..<j, hmm: useHMM && hmm != nil, into: &out)
                i = j
            } else if s[i] == 0x0D && i + 1 < s.count && s[i + 1] == 0x0A {
                out.append(i..<(i + 2)); i += 2
            } else {
                out.append(i..<(i + 1)); i += 1
            }
        }
        return out
    }

    /// jieba's `re_han_default`: `[\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]`.
    static func isBlockCharacter(_ c: UInt32) -> Bool {
        (0x4E00...0x9FD5).contains(c) || isASCIIAlphanumeric(c)
            || c == 0x2B || c == 0x23 || c == 0x26 || c == 0x2E || c == 0x5F || c == 0x25 || c == 0x2D
    }

    static func isASCIIAlphanumeric(_ c: UInt32) -> Bool {
        (0x61...0x7A).contains(c) || (0x41...0x5A).contains(c) || (0x30...0x39).contains(c)
    }

    private static func isASCIISpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }

    /// Frequency of the word `s[range]`: nil when it is not even a prefix in the dictionary.
    private func frequency(_ s: [UInt32], _ range: Range<Int>) -> Int32? {
        var node = root
        for c in s[range] {
            node = trie.child(node, c)
            if node == ScalarTrie.none { return nil }
        }
        return trie.value(node)
    }

    /// The maximum-probability route over the block's DAG: for each position, the end
    /// (exclusive) of the word starting there.
    private func route(_ s: [UInt32], _ block: Range<Int>) -> [Int] {
        let n = block.count
        var best = [Double](repeating: 0, count: n + 1)
        var ends = [Int](repeating: 0, count: n + 1)
        var candidates: [(end: Int, frequency: Int32)] = []
        for k in stride(from: n - 1, through: 0, by: -1) {
            // DAG[k]: every end i with s[k...i] a word of non-zero frequency; [k] when none.
            candidates.removeAll(keepingCapacity: true)
            var node = root
            var i = k
            while i < n {
                node = trie.child(node, s[block.lowerBound + i])
                if node == ScalarTrie.none { break }
                let f = trie.value(node)
                if f > 0 { candidates.append((i, f)) }
                i += 1
            }
            if candidates.isEmpty { candidates.append((k, 0)) }
            var bestScore = -Double.infinity, bestEnd = -1
            for (x, f) in candidates {
                // log(FREQ.get(word) or 1) - logtotal + route[x + 1], ties to the larger x.
                let score = log(Double(f > 0 ? f : 1)) - logTotal + best[x + 1]
                if bestEnd < 0 || score > bestScore || (score == bestScore && x > bestEnd) {
                    bestScore = score
                    bestEnd = x
                }
            }
            best[k] = bestScore
            ends[k] = bestEnd + 1
        }
        return ends
    }

    private func cutBlock(_ s: [UInt32], _ block: Range<Int>, hmm useHMM: Bool, into out: inout [Range<Int>]) {
        let ends = route(s, block)
        let base = block.lowerBound
        var x = 0
        var buffer: Range<Int>? = nil // consecutive single-character words
        func flush() {
            guard let b = buffer else { return }
            buffer = nil
            if useHMM {
                if b.count == 1 { out.append(b) }
                else if (frequency(s, b) ?? 0) == 0 { cutUnknown(s, b, into: &out) }
                else { for i in b { out.append(i..<(i + 1)) } }
            } else {
                out.append(b)
            }
        }
        while x < block.count {
            let y = ends[x]
            let word = (base + x)..<(base + y)
            let joinsBuffer = useHMM ? y - x == 1 : (y - x == 1 && Self.isASCIIAlphanumeric(s[base + x]))
            if joinsBuffer {
                buffer = buffer.map { $0.lowerBound..<word.upperBound } ?? word
            } else {
                flush()
                out.append(word)
            }
            x = y
        }
        flush()
    }

    /// jieba's `finalseg.cut` of a run the dictionary does not know: CJK runs by the HMM; in
    /// the rest, `[a-zA-Z0-9]+(\.\d+)?%?` pieces and what lies between them.
    private func cutUnknown(_ s: [UInt32], _ range: Range<Int>, into out: inout [Range<Int>]) {
        var i = range.lowerBound
        while i < range.upperBound {
            if (0x4E00...0x9FD5).contains(s[i]) {
                var j = i + 1
                while j < range.upperBound && (0x4E00...0x9FD5).contains(s[j]) { j += 1 }
                for word in hmm!.cut(s[i..<j]) { out.append(word.startIndex..<word.endIndex) }
                i = j
                continue
            }
            var j = i
            while j < range.upperBound && !(0x4E00...0x9FD5).contains(s[j]) { j += 1 }
            splitAlphanumeric(s, i..<j, into: &out)
            i = j
        }
    }

    private func splitAlphanumeric(_ s: [UInt32], _ range: Range<Int>, into out: inout [Range<Int>]) {
        var i = range.lowerBound
        var gapStart = i
        func isDigit(_ c: UInt32) -> Bool { (0x30...0x39).contains(c) }
        while i < range.upperBound {
            guard Self.isASCIIAlphanumeric(s[i]) else { i += 1; continue }
            if gapStart < i { out.append(gapStart..<i) }
            var j = i
            while j < range.upperBound && Self.isASCIIAlphanumeric(s[j]) { j += 1 }
            if j + 1 < range.upperBound && s[j] == 0x2E && isDigit(s[j + 1]) {
                j += 1
                while j < range.upperBound && isDigit(s[j]) { j += 1 }
            }
            if j < range.upperBound && s[j] == 0x25 { j += 1 }
            out.append(i..<j)
            i = j
            gapStart = j
        }
        if gapStart < range.upperBound { out.append(gapStart..<range.upperBound) }
    }
}
