/// CLIP's byte-level BPE tokenizer (OpenAI CLIP / open_clip `SimpleTokenizer`): text cleaned by
/// `CLIPTextCleaner`, split by CLIP's pattern (`'s|'t|'re|'ve|'m|'ll|'d`, runs of letters,
/// single digits, runs of other non-space characters), each piece's UTF-8 bytes mapped to
/// byte symbols, the last marked `</w>`, then merged by rank. Rows are
/// `<start_of_text> … <end_of_text>`, cut to the context length with the end token kept, padded
/// with id 0.
public struct CLIPTokenizer: TextTokenizer {
    /// The token strings in id order: 256 byte symbols, the same with `</w>`, the merges, then
    /// `<start_of_text>` and `<end_of_text>`.
    public let vocabulary: [String]
    public let startID: Int32
    public let endID: Int32
    /// open_clip pads with 0 (which is also the byte symbol "!"); attention masks tell them apart.
    public let paddingID: Int32 = 0
    /// The merges open_clip reads from its file (49,152 − 256 byte symbols − 2 special tokens).
    public static let maxMergeCount = 49152 - 256 - 2
    /// Context length of CLIP's text encoder.
    public static let defaultContextLength = 77

    /// (left id << 32 | right id) → (rank << 32 | merged id)
    private let merges: [UInt64: UInt64]
    private let byteIDs: [Int32]
    private let specialNames = ["<start_of_text>", "<end_of_text>"]

    /// Loads the merges file (`bpe_simple_vocab_16e6.txt.gz` or its decompressed `.txt`). A file
    /// with fewer merges (a prefix of the list, as small test models use) gives a smaller
    /// vocabulary, as open_clip's `SimpleTokenizer` reads it.
    public init(mergesFile path: String = "assets/open-clip/bpe_simple_vocab_16e6.txt.gz") throws {
        let lines = AssetFile.lines(try AssetFile.read(path))
        // open_clip keeps lines 1 ... 48,894 (49,152 - 256 - 2): line 0 is a version header.
        let mergeCount = min(Self.maxMergeCount, lines.count - 1)
        guard mergeCount >= 1 else {
            throw TextError.malformedFile(path: path, line: nil,
                                          reason: "expected a header line and at least one merge, found \(lines.count) lines")
        }
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(mergeCount)
        for (index, line) in lines[1...mergeCount].enumerated() {
            let parts = line.split(whereSeparator: { $0.unicodeScalars.first!.isPythonWhitespace })
            guard parts.count == 2 else {
                throw TextError.malformedFile(path: path, line: index + 2, reason: "a merge is two symbols, found \(parts.count)")
            }
            pairs.append((String(parts[0]), String(parts[1])))
        }
        try self.init(merges: pairs, source: path)
    }

    /// A tokenizer from merges in rank order (each a pair of symbols over the byte alphabet).
    public init(merges pairs: [(String, String)], source: String = "<memory>") throws {
        let byteSymbols = Self.byteSymbols()
        var vocabulary = byteSymbols.map { String($0) }
        vocabulary += byteSymbols.map { String($0) + "</w>" }
        vocabulary += pairs.map { $0.0 + $0.1 }
        vocabulary += specialNames
        var ids: [String: Int32] = [:]
        for (id, token) in vocabulary.enumerated() { ids[token] = Int32(id) }
        var merges: [UInt64: UInt64] = [:]
        merges.reserveCapacity(pairs.count)
        for (rank, pair) in pairs.enumerated() {
            guard let left = ids[pair.0], let right = ids[pair.1] else {
                throw TextError.malformedFile(path: source, line: rank + 2,
                                              reason: "merge \(pair.0) \(pair.1) uses a symbol no earlier merge made")
            }
            let key = UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))
            if merges[key] == nil { merges[key] = UInt64(rank) << 32 | UInt64(UInt32(ids[pair.0 + pair.1]!)) }
        }
        var byteIDs = [Int32](repeating: 0, count: 256)
        for (index, symbol) in byteSymbols.enumerated() {
            byteIDs[Int(Self.byteOfSymbol(symbol))] = Int32(index)
        }
        self.vocabulary = vocabulary
        self.merges = merges
        self.byteIDs = byteIDs
        startID = ids["<start_of_text>"]!
        endID = ids["<end_of_text>"]!
    }

    public var vocabularySize: Int { vocabulary.count }

    public func tokenize(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        for piece in Self.pieces(of: CLIPTextCleaner.clean(text)) {
            if piece == "<start_of_text>" { ids.append(startID); continue }
            if piece == "<end_of_text>" { ids.append(endID); continue }
            ids += bytePairEncode(Array(piece.utf8))
        }
        return ids
    }

    public func tokens(for ids: [Int32]) throws -> [String] {
        try ids.map { id in
            guard id >= 0, Int(id) < vocabulary.count else {
                throw TextError.invalidArgument(name: "id", reason: "\(id) is outside the vocabulary (\(vocabulary.count) tokens)")
            }
            return vocabulary[Int(id)]
        }
    }

    /// `<start_of_text> text <end_of_text>`; with `maxLength` (open_clip: 77) cut to that many
    /// ids with the last one set to `<end_of_text>`; then padded with 0 to `paddedTo`.
    public func encode(_ text: String, maxLength: Int? = nil, paddedTo length: Int? = nil) throws -> TokenizedText {
        if let maxLength, maxLength < 2 {
            throw TextError.invalidArgument(name: "maxLength", reason: "\(maxLength) leaves no room for the start and end tokens")
        }
        var ids = [startID] + tokenize(text) + [endID]
        if let maxLength, ids.count > maxLength {
            ids.removeSubrange(maxLength...)
            ids[maxLength - 1] = endID
        }
        var pieces = TokenPieces()
        for (i, id) in ids.enumerated() where i > 0 && i < ids.count - 1 { pieces.append(id, offset: -1, word: -1) }
        var out = TokenizedText(capacity: max(ids.count, length ?? 0))
        out.appendSpecial(startID, type: 0)
        out.append(pieces, range: 0..<pieces.count, type: 0)
        out.appendSpecial(endID, type: 0)
        if let length { out.pad(to: length, padID: paddingID) }
        return out
    }

    /// open_clip's row: `encode(text, maxLength: 77, paddedTo: 77).ids`.
    public func contextRow(_ text: String, contextLength: Int = CLIPTokenizer.defaultContextLength) throws -> [Int32] {
        try encode(text, maxLength: contextLength, paddedTo: contextLength).ids
    }

    // MARK: BPE

    /// Merges the bytes of one piece, lowest rank first, every occurrence of a pair left to
    /// right, until no adjacent pair has a merge.
    func bytePairEncode(_ bytes: [UInt8]) -> [Int32] {
        guard !bytes.isEmpty else { return [] }
        var word = bytes.map { byteIDs[Int($0)] }
        word[word.count - 1] += 256 // the `</w>` form of the last byte
        while word.count > 1 {
            var best = UInt64.max, bestIndex = -1
            for i in 0..<(word.count - 1) {
                if let merge = merges[UInt64(UInt32(word[i])) << 32 | UInt64(UInt32(word[i + 1]))], merge < best {
                    best = merge
                    bestIndex = i
                }
            }
            if bestIndex < 0 { break }
            let (first, second) = (word[bestIndex], word[bestIndex + 1])
            let merged = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
            var next: [Int32] = []
            next.reserveCapacity(word.count)
            var i = 0
            while i < word.count {
                if i < word.count - 1 && word[i] == first && word[i + 1] == second {
                    next.append(merged)
                    i += 2
                } else {
                    next.append(word[i])
                    i += 1
                }
            }
            word = next
        }
        return word
    }

    // MARK: Pre-tokenization

    /// CLIP's pattern, `<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`,
    /// applied to cleaned (lower-cased) text: the matches in order.
    static func pieces(of text: String) -> [String] {
        let s = Array(text.unicodeScalars)
        var pieces: [String] = []
        var i = 0
        func piece(_ range: Range<Int>) -> String { String(String.UnicodeScalarView(s[range])) }
        func hasPrefix(_ literal: String, at i: Int) -> Bool {
            let l = Array(literal.unicodeScalars)
            return i + l.count <= s.count && Array(s[i..<(i + l.count)]) == l
        }
        while i < s.count {
            let c = s[i]
            if c == "<", let special = ["<start_of_text>", "<end_of_text>"].first(where: { hasPrefix($0, at: i) }) {
                pieces.append(special)
                i += special.unicodeScalars.count
            } else if c == "'", let suffix = ["s", "t", "re", "ve", "m", "ll", "d"].first(where: { hasPrefix("'" + $0, at: i) }) {
                pieces.append("'" + suffix)
                i += 1 + suffix.count
            } else if isLetter(c) {
                var j = i + 1
                while j < s.count && isLetter(s[j]) { j += 1 }
                pieces.append(piece(i..<j))
                i = j
            } else if isNumber(c) {
                pieces.append(String(c))
                i += 1
            } else if c.properties.isWhitespace {
                i += 1
            } else {
                var j = i + 1
                while j < s.count && !isLetter(s[j]) && !isNumber(s[j]) && !s[j].properties.isWhitespace { j += 1 }
                pieces.append(piece(i..<j))
                i = j
            }
        }
        return pieces
    }

    private static func isLetter(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII { return ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    private static func isNumber(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII { return ("0"..."9").contains(c) }
        switch c.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    // MARK: Byte symbols

    /// GPT-2's byte alphabet: printable bytes stand for themselves, the others (controls,
    /// space, soft hyphen…) for U+0100 onwards, in this order.
    static func byteSymbols() -> [Unicode.Scalar] {
        let printable = Array(33...126) + Array(161...172) + Array(174...255)
        var symbols = printable.map { Unicode.Scalar(UInt8($0)) }
        var extra: UInt32 = 256
        for byte in 0..<256 where !printable.contains(byte) {
            symbols.append(Unicode.Scalar(extra)!)
            extra += 1
        }
        return symbols
    }

    private static func byteOfSymbol(_ symbol: Unicode.Scalar) -> UInt8 {
        let printable = Array(33...126) + Array(161...172) + Array(174...255)
        if printable.contains(Int(symbol.value)) { return UInt8(symbol.value) }
        let others = (0..<256).filter { !printable.contains($0) }
        return UInt8(others[Int(symbol.value) - 256])
    }
}
