import Foundation

/// What a worker does to one sample: choose its text, tokenize and mask it, decode and
/// transform its image. Pure given its inputs: every random draw comes from generators seeded
/// by (seed, epoch, sample id), so a sample is prepared the same way on any worker.
///
/// **Which text.** A sample may carry several texts (Zero: title, content, query; Scenes:
/// two languages, paraphrases, hard negatives). The candidates are the positive texts
/// (originals and paraphrases; hard negatives never) that are not blank and that pass the
/// `kinds` / `languages` filters, in the sample's order. `.randomPositive` (the default)
/// draws one uniformly per epoch, so over epochs every positive text is used;
/// `.firstPositive` always takes the first (evaluation). A sample without a candidate is
/// skipped (`SkipReason.noUsableText`).
///
/// Several texts of one image in one batch share the image's `imageID` (a hash of the
/// encoded image bytes), which is what multi-positive contrastive targets key on.
public struct SampleTransform: Sendable {
    public enum TextChoice: String, Sendable, Codable {
        case randomPositive
        case firstPositive
    }

    /// Masked-language-modeling inputs made next to the plain ids.
    public struct Masking: Sendable {
        public var masker: TokenMasker
        /// For whole-word masking of Chinese text (jieba spans); nil masks WordPiece words only.
        public var segmenter: JiebaSegmenter?

        public init(masker: TokenMasker, segmenter: JiebaSegmenter? = nil) {
            self.masker = masker
            self.segmenter = segmenter
        }
    }

    public struct TextOptions: Sendable {
        public var tokenizer: any TextTokenizer
        /// Every text is cut to and padded to this many positions (special tokens included).
        public var contextLength: Int
        public var choice: TextChoice
        /// Allowed kinds; nil allows all.
        public var kinds: Set<TextKind>?
        /// Allowed languages (texts without a language pass); nil allows all.
        public var languages: Set<String>?
        public var masking: Masking?
        /// Hard negatives are candidates too: a matching set's pairs (label 0 or 1) are trained on
        /// whatever text they hold, with the sample's label (`Batch.labels`).
        public var includesNegatives: Bool
        /// For CMCL: beside the chosen text, another positive and this many hard negatives of
        /// the sample (`PreparedRewrites`); 0 prepares none.
        public var rewrites: Int

        public init(tokenizer: any TextTokenizer, contextLength: Int, choice: TextChoice = .randomPositive,
                    kinds: Set<TextKind>? = nil, languages: Set<String>? = nil, masking: Masking? = nil,
                    includesNegatives: Bool = false, rewrites: Int = 0) throws {
            guard rewrites >= 0 else { throw DatasetError.invalidArgument("rewrites \(rewrites) is negative") }
            guard contextLength >= 2 else {
                throw DatasetError.invalidArgument("context length \(contextLength) leaves no room for special tokens")
            }
            self.tokenizer = tokenizer
            self.contextLength = contextLength
            self.choice = choice
            self.kinds = kinds
            self.languages = languages
            self.masking = masking
            self.includesNegatives = includesNegatives
            self.rewrites = rewrites
        }
    }

    public var image: ImagePipeline
    /// nil: image-only batches (no text tensors), e.g. classification or image benchmarks.
    public var text: TextOptions?
    /// Each sample's precomputed detector regions (single-stream models with MOC); nil: none.
    public var regions: RegionFiles?

    public init(image: ImagePipeline, text: TextOptions?, regions: RegionFiles? = nil) {
        self.image = image
        self.text = text
        self.regions = regions
    }

    /// One sample ready for batching.
    public struct Prepared: Sendable {
        public var sampleID: String
        public var imageID: Int64
        public var image: ImageTensorData
        public var text: PreparedText?
        /// The sample's label (class, or 1/0 match), when it has one.
        public var label: Int? = nil
        /// CMCL's extra texts, when `TextOptions.rewrites` > 0.
        public var rewrites: PreparedRewrites? = nil
        /// The sample's detector regions, when the transform reads them.
        public var regions: SampleRegions? = nil
    }

    /// UNIMO's rewritten texts of one sample: another positive (a paraphrase, a caption in the
    /// other language, or the chosen text itself when there is no other) and exactly
    /// `TextOptions.rewrites` hard-negative slots (rewrites and retrieved captions, those in the
    /// chosen text's language and kind first), the unfilled ones marked invalid.
    public struct PreparedRewrites: Sendable {
        public var positive: TokenizedText
        public var negatives: [TokenizedText]
        public var negativeIsValid: [Bool]
    }

    /// One sample's chosen text: the string, its kind, its tokens (padded to the context length)
    /// and, when masking is on, its masked version.
    public struct PreparedText: Sendable {
        public var text: String
        public var kind: TextKind
        public var tokens: TokenizedText
        public var masked: MaskedTokens?
    }

    /// Why a sample could not be prepared.
    public struct Problem: Error, Sendable {
        public var reason: SkipReason
        public var detail: String
    }

    /// The text candidates of `sample`, as the type comment says.
    public func candidateTexts(of sample: Sample) -> [SampleText] {
        guard let text else { return [] }
        return sample.texts.filter { candidate in
            (candidate.role.isPositive || text.includesNegatives)
                && !candidate.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
                && (text.kinds?.contains(candidate.kind) ?? true)
                && (candidate.language.map { language in text.languages?.contains(language) ?? true } ?? true)
        }
    }

    /// Prepares `sample` for `epoch` of a run seeded with `seed`.
    public func prepare(_ sample: Sample, seed: UInt64, epoch: Int, source: String) -> Result<Prepared, Problem> {
        // Text first: it is cheap, and a sample without usable text needs no decoding.
        var preparedText: PreparedText?
        var rewrites: PreparedRewrites?
        if let options = text {
            let candidates = candidateTexts(of: sample)
            guard !candidates.isEmpty else {
                let detail = sample.texts.isEmpty ? "the sample has no text"
                    : "none of its \(sample.texts.count) texts is a non-empty positive of the selected kinds/languages"
                return .failure(Problem(reason: .noUsableText, detail: detail))
            }
            var choiceGenerator = ShardAssignment.sampleGenerator(seed: seed, epoch: epoch, sampleID: sample.id, purpose: 1)
            let chosen = options.choice == .firstPositive || candidates.count == 1
                ? candidates[0] : candidates[Int(choiceGenerator.next(upperBound: UInt64(candidates.count)))]
            let encoded: TokenizedText
            do {
                encoded = try options.tokenizer.encode(chosen.text, maxLength: options.contextLength, paddedTo: options.contextLength)
            } catch {
                return .failure(Problem(reason: .tokenizationFailed, detail: "\(error)"))
            }
            var masked: MaskedTokens?
            if let masking = options.masking {
                var maskGenerator = ShardAssignment.sampleGenerator(seed: seed, epoch: epoch, sampleID: sample.id, purpose: 3)
                let spans = masking.segmenter.map { $0.wordSpans(chosen.text) }
                masked = masking.masker.mask(encoded, wordSpans: spans, using: &maskGenerator)
            }
            preparedText = PreparedText(text: chosen.text, kind: chosen.kind, tokens: encoded, masked: masked)
            if options.rewrites > 0 {
                var rewriteGenerator = ShardAssignment.sampleGenerator(seed: seed, epoch: epoch, sampleID: sample.id, purpose: 4)
                do {
                    rewrites = try prepareRewrites(of: sample, chosen: chosen, tokens: encoded, candidates: candidates, options: options,
                                                   using: &rewriteGenerator)
                } catch {
                    return .failure(Problem(reason: .tokenizationFailed, detail: "\(error)"))
                }
            }
        }

        var regions: SampleRegions?
        if let files = self.regions {
            do { regions = try files.read(sample.id) } catch {
                return .failure(Problem(reason: .unreadableRegions, detail: "\(error)"))
            }
        }

        var imageGenerator = ShardAssignment.sampleGenerator(seed: seed, epoch: epoch, sampleID: sample.id, purpose: 2)
        let decoded: RGBImage
        let imageID: Int64
        switch decodedImage(of: sample, source: source) {
        case .success(let image): (decoded, imageID) = image
        case .failure(let problem): return .failure(problem)
        }
        let tensor: ImageTensorData
        do { tensor = try image(decoded, using: &imageGenerator) } catch {
            return .failure(Problem(reason: .transformFailed, detail: error.description))
        }
        return .success(Prepared(sampleID: sample.id, imageID: imageID, image: tensor, text: preparedText, label: sample.label,
                                 rewrites: rewrites, regions: regions))
    }

    /// The sample's CMCL texts (`PreparedRewrites`) beside the `chosen` one.
    func prepareRewrites(of sample: Sample, chosen: SampleText, tokens: TokenizedText, candidates: [SampleText], options: TextOptions,
                         using generator: inout SplitMix64) throws -> PreparedRewrites {
        func encode(_ text: String) throws -> TokenizedText {
            try options.tokenizer.encode(text, maxLength: options.contextLength, paddedTo: options.contextLength)
        }
        let others = candidates.filter { $0.text != chosen.text }
        let positive = others.isEmpty ? tokens : try encode(generator.pick(others).text)
        // Negatives in random order, then those closest to the chosen text first (same
        // language, then same kind): a Chinese title is contrasted with Chinese rewrites.
        let pool = generator.shuffled(sample.texts.filter { !$0.role.isPositive && !$0.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty })
        func closeness(_ text: SampleText) -> Int { (text.language == chosen.language ? 2 : 0) + (text.kind == chosen.kind ? 1 : 0) }
        let ranked = pool.enumerated().sorted { (closeness($0.element), -$0.offset) > (closeness($1.element), -$1.offset) }.map(\.element)
        let picked = try ranked.prefix(options.rewrites).map { try encode($0.text) }
        let padding = Array(repeating: positive, count: options.rewrites - picked.count)
        return PreparedRewrites(positive: positive, negatives: picked + padding,
                                negativeIsValid: picked.map { _ in true } + padding.map { _ in false })
    }

    /// The sample's image decoded (at the pipeline's DCT-scaling hint) and its content id: the
    /// one decode path of training and evaluation.
    public func decodedImage(of sample: Sample, source: String) -> Result<(image: RGBImage, id: Int64), Problem> {
        switch sample.image {
        case nil:
            return .failure(Problem(reason: .missingImage, detail: "the sample has no image"))
        case .pixels(let pixels)?:
            return .success((pixels, SampleTransform.contentHash(pixels.pixels)))
        case .encoded(let bytes)?:
            do {
                let decoded = try image.decoder.decode(bytes, source: "\(source) sample \(sample.id)", targetShortSide: image.decodeShortSideHint)
                return .success((decoded, SampleTransform.contentHash(bytes)))
            } catch {
                return .failure(Problem(reason: .undecodableImage, detail: error.description))
            }
        case .file(let path)?:
            guard let bytes = FileManager.default.contents(atPath: path) else {
                return .failure(Problem(reason: .undecodableImage, detail: "\(path): cannot read the image file"))
            }
            do {
                return .success((try image.decoder.decode(bytes, source: path, targetShortSide: image.decodeShortSideHint), SampleTransform.contentHash(bytes)))
            } catch {
                return .failure(Problem(reason: .undecodableImage, detail: error.description))
            }
        }
    }

    /// A 63-bit FNV-1a-style hash over 8-byte words: equal images (byte for byte) get equal ids.
    static func contentHash<C: ContiguousBytes>(_ bytes: C) -> Int64 {
        bytes.withUnsafeBytes { raw -> Int64 in
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(raw.count)
            let words = raw.count / 8
            for w in 0..<words {
                hash = (hash ^ raw.loadUnaligned(fromByteOffset: w * 8, as: UInt64.self)) &* 0x0000_0100_0000_01B3
                hash ^= hash >> 29
            }
            for i in (words * 8)..<raw.count { hash = (hash ^ UInt64(raw[i])) &* 0x0000_0100_0000_01B3 }
            var mixer = SplitMix64(seed: hash)
            return Int64(bitPattern: mixer.next() & 0x7FFF_FFFF_FFFF_FFFF)
        }
    }
}
