/// BERT's basic tokenizer: cleans the text (drops NUL, U+FFFD and control characters, maps
/// whitespace to spaces), makes every CJK ideograph a word of its own, optionally lower-cases
/// and strips accents, and splits on whitespace and punctuation (each punctuation character is a
/// word). This is what cn-clip's `BasicTokenizer` and Hugging Face's `BertNormalizer` +
/// `BertPreTokenizer` compute; `Options` holds where the two differ.
public struct BasicTokenizer: Sendable {
    public struct Options: Sendable, Equatable {
        /// Lower-case the text (full Unicode mappings, e.g. U+0130 → "i̇").
        public var lowercase: Bool
        /// Lower-case a capital sigma at the end of a word to ς, as Python's `str.lower()` does
        /// (cn-clip); Hugging Face maps character by character and always gives σ.
        public var lowercasesFinalSigma: Bool
        /// Decompose (NFD) and drop non-spacing marks; nil follows `lowercase` (both references).
        public var stripAccents: Bool?
        /// Also drop unassigned (Cn) and private-use (Co) characters, as Hugging Face does.
        public var removesUnassignedCharacters: Bool
        /// First code point of CJK Extension E in the "Chinese character" ranges: U+2B820 in
        /// Google's BERT (cn-clip), U+2B920 in Hugging Face `tokenizers`.
        public var cjkExtensionEStart: UInt32

        public init(lowercase: Bool = true, lowercasesFinalSigma: Bool = true, stripAccents: Bool? = nil,
                    removesUnassignedCharacters: Bool = false, cjkExtensionEStart: UInt32 = 0x2B820) {
            self.lowercase = lowercase
            self.lowercasesFinalSigma = lowercasesFinalSigma
            self.stripAccents = stripAccents
            self.removesUnassignedCharacters = removesUnassignedCharacters
            self.cjkExtensionEStart = cjkExtensionEStart
        }
    }

    /// The words of one text, flattened: `scalars[starts[w]..<starts[w + 1]]` is word `w`, and
    /// `offsets[i]` is the index (in Unicode scalars of the input) that `scalars[i]` came from.
    struct Words {
        var scalars: [UInt32] = []
        var offsets: [Int32] = []
        var starts: [Int32] = [0]
        var count: Int { starts.count - 1 }
    }

    public let options: Options

    public init(options: Options = Options()) {
        self.options = options
    }

    /// The words of `text` as strings (for inspection; the tokenizers use the flat form).
    public func words(in text: String) -> [String] {
        let words = split(text)
        return (0..<words.count).map { w in
            var s = String.UnicodeScalarView()
            for v in words.scalars[Int(words.starts[w])..<Int(words.starts[w + 1])] {
                s.append(Unicode.Scalar(v)!)
            }
            return String(s)
        }
    }

    func split(_ text: String) -> Words {
        let input = Self.decode(text)
        var words = Words()
        words.scalars.reserveCapacity(input.count + 8)
        words.offsets.reserveCapacity(input.count + 8)
        words.starts.reserveCapacity(input.count / 2 + 2)
        let lowercase = options.lowercase
        let finalSigma = options.lowercase && options.lowercasesFinalSigma
        let strip = options.stripAccents ?? options.lowercase
        let dropUnassigned = options.removesUnassignedCharacters
        let extensionE = options.cjkExtensionEStart
        var folded: [UInt32] = []
        folded.reserveCapacity(4)

        @inline(__always) func endWord() {
            if Int(words.starts[words.count]) != words.scalars.count {
                words.starts.append(Int32(words.scalars.count))
            }
        }
        @inline(__always) func add(_ v: UInt32, _ offset: Int) {
            words.scalars.append(v)
            words.offsets.append(Int32(truncatingIfNeeded: offset))
        }

        input.withUnsafeBufferPointer { input in
            for i in 0..<input.count {
                let c = input[i]
                if c < 0x80 {
                    switch c {
                    case 0x20, 0x09, 0x0A, 0x0D: endWord()
                    case 0x00..<0x20, 0x7F: continue
                    case 0x30...0x39, 0x61...0x7A: add(c, i)
                    case 0x41...0x5A: add(lowercase ? c + 32 : c, i)
                    default: endWord(); add(c, i); endWord() // ASCII punctuation
                    }
                    continue
                }
                if c == 0xFFFD { continue }
                let flags = BertCharacterClasses.flags(c)
                if flags & BertCharacterClasses.control != 0 { continue }
                if dropUnassigned && flags & BertCharacterClasses.unassignedOrPrivate != 0 { continue }
                if flags & BertCharacterClasses.whitespace != 0 { endWord(); continue }
                let isChinese = BertCharacterClasses.isChinese(c, extensionEStart: extensionE)
                if isChinese { endWord() }
                folded.removeAll(keepingCapacity: true)
                if c == 0x3A3 && finalSigma {
                    folded.append(Self.lowercaseSigma(input, at: i))
                } else if lowercase || strip {
                    BertCharacterClasses.appendFolded(c, lowercase: lowercase, stripAccents: strip, to: &folded)
                } else {
                    folded.append(c)
                }
                for v in folded {
                    if BertCharacterClasses.flags(v) & BertCharacterClasses.punctuation != 0 {
                        endWord(); add(v, i); endWord()
                    } else {
                        add(v, i)
                    }
                }
                if isChinese { endWord() }
            }
        }
        endWord()
        return words
    }

    /// The Unicode scalar values of `text`.
    static func decode(_ text: String) -> [UInt32] {
        var text = text
        return text.withUTF8 { utf8 in
            var out = [UInt32]()
            decode(bytes: utf8, into: &out)
            return out
        }
    }

    /// Appends the scalar values of valid UTF-8 `bytes` to `out`.
    static func decode(bytes utf8: UnsafeBufferPointer<UInt8>, into out: inout [UInt32]) {
        out.reserveCapacity(out.count + utf8.count)
        var i = 0
        let n = utf8.count
        while i < n {
            let b0 = UInt32(utf8[i])
            if b0 < 0x80 {
                out.append(b0); i += 1
            } else if b0 < 0xE0, i + 1 < n {
                out.append((b0 & 0x1F) << 6 | UInt32(utf8[i + 1] & 0x3F)); i += 2
            } else if b0 < 0xF0, i + 2 < n {
                out.append((b0 & 0x0F) << 12 | UInt32(utf8[i + 1] & 0x3F) << 6 | UInt32(utf8[i + 2] & 0x3F)); i += 3
            } else if i + 3 < n {
                out.append((b0 & 0x07) << 18 | UInt32(utf8[i + 1] & 0x3F) << 12
                    | UInt32(utf8[i + 2] & 0x3F) << 6 | UInt32(utf8[i + 3] & 0x3F)); i += 4
            } else {
                out.append(0xFFFD); i += 1
            }
        }
    }

    /// Lower-cases the capital sigma at `i` with the text as the final-sigma rule sees it: the
    /// removed characters become U+00AD SOFT HYPHEN, which is case-ignorable and so skipped like
    /// an absent character. Only reached when a capital sigma occurs.
    private static func lowercaseSigma(_ input: UnsafeBufferPointer<UInt32>, at i: Int) -> UInt32 {
        let cleaned = input.map { c -> UInt32 in
            let removed = c == 0 || c == 0xFFFD || BertCharacterClasses.flags(c) & BertCharacterClasses.control != 0
            return removed ? 0xAD : c
        }
        return cleaned.withUnsafeBufferPointer { BertCharacterClasses.lowercaseSigma(in: $0, at: i) }
    }
}
