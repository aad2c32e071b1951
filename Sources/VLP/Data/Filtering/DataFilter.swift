import Foundation

/// The web-data cleaning step of ImageBERT's LAIT pipeline and ALIGN's filtering, as a stream
/// over one part of a dataset:
///
/// 1. **Counting pass** (only with `FilterRules.maxImagesPerText`): the part is read once and
///    each cleaned positive text's distinct images are counted (`TextImageCounter`: hashes
///    only, no samples kept). Every record read counts, whatever the other rules later decide,
///    as ALIGN counts alt-texts over the whole collected pool.
/// 2. **Filtering pass**: the part is opened again and read in order. Image rules apply per
///    sample, to the size the image codec reads from the header (`FilterImage`): an image the
///    loader's decoder would refuse (unknown format, over its pixel limit) is dropped as
///    unreadable, decoded or not; a sample that fails a rule is dropped. Text rules apply to each positive text (originals and paraphrases), cleaned
///    first; hard negatives are written untouched unless their sample is dropped. With a
///    scorer, the texts left are scored against their image in batches of samples, then
///    `minSimilarity` and `keepBest` apply. A sample that had positive texts and lost them all
///    is dropped (`FilterRule.noTextLeft`). Kept samples are written in reading order.
///
/// Bad records the reader skips are counted apart and never stop the run; an image that cannot
/// be read is a drop (`FilterRule.unreadableImage`), not an error.
public final class DataFilter {
    public let rules: FilterRules
    public let tokenizer: BertTokenizer?
    public let segmenter: JiebaSegmenter?
    public let scorer: ImageTextScorer?
    /// Samples per scorer call.
    public var scoringBatchSize = 32

    /// - Parameters:
    ///   - tokenizer: for `minVocabularyRate` (Chinese-CLIP's, `BertTokenizer.chineseCLIP()`).
    ///   - segmenter: for `minWords` / `maxWords`.
    ///   - scorer: for `minSimilarity` / `keepBest`.
    /// Throws naming the rule when what a rule needs is missing, or a scorer is given that no rule uses.
    public init(rules: FilterRules, tokenizer: BertTokenizer?, segmenter: JiebaSegmenter?, scorer: ImageTextScorer? = nil) throws {
        try rules.validate()
        if rules.minVocabularyRate != nil && tokenizer == nil {
            throw DatasetError.invalidArgument("filter rules: the vocabulary-rate rule needs a WordPiece tokenizer")
        }
        if rules.needsWordCounts && segmenter == nil {
            throw DatasetError.invalidArgument("filter rules: the word-count rules need a word segmenter (jieba)")
        }
        if rules.needsScorer && scorer == nil {
            throw DatasetError.invalidArgument("filter rules: the similarity rules (minimum similarity, keep-best) need a semantic scorer (a checkpoint)")
        }
        if scorer != nil && !rules.needsScorer {
            throw DatasetError.invalidArgument("filter rules: a semantic scorer was given but no rule uses it (set a minimum similarity or keep-best)")
        }
        self.rules = rules
        self.tokenizer = tokenizer
        self.segmenter = segmenter
        self.scorer = scorer
    }

    /// Loads what the rules need from `assets/`: Chinese-CLIP's vocabulary, jieba's dictionary.
    public convenience init(rules: FilterRules, scorer: ImageTextScorer? = nil) throws {
        try self.init(rules: rules,
                      tokenizer: rules.minVocabularyRate == nil ? nil : try BertTokenizer.chineseCLIP(),
                      segmenter: rules.needsWordCounts ? try JiebaSegmenter() : nil,
                      scorer: scorer)
    }

    /// Filters the part `name` into `writer` and publishes the writer's files. `open` gives a
    /// fresh reader of the part from its start; it is called twice when the frequency rule is
    /// on (counting pass, filtering pass), once otherwise.
    public func filter(part name: String, open: () throws -> SampleReader, into writer: SampleWriter) throws -> FilterReport {
        var report = FilterReport(part: name)
        var counter: TextImageCounter?
        if let limit = rules.maxImagesPerText {
            var counting = TextImageCounter(limit: limit)
            let reader = try open()
            while let sample = try reader.next() {
                let image = FilterImage.identity(sample.image, sampleID: sample.id)
                for text in sample.texts where text.role.isPositive {
                    counting.add(text: textKey(prepared(text.text)), image: image)
                }
            }
            report.distinctTexts = counting.textCount
            report.textsOverFrequencyLimit = counting.overLimitCount
            counter = counting
        }

        let reader = try open()
        var pending: [Candidate] = []
        while let sample = try reader.next() {
            report.samplesRead += 1
            report.textsRead += sample.texts.count
            guard let candidate = judge(sample, counter: counter, report: &report) else { continue }
            pending.append(candidate)
            if scorer == nil || pending.count >= scoringBatchSize {
                try finish(&pending, into: writer, report: &report)
            }
        }
        try finish(&pending, into: writer, report: &report)
        try writer.finish()
        report.skipped = reader.skipped.count
        report.skipExamples = reader.skipped.prefix(5).map(\.description)
        return report
    }

    /// A sample past the image and text rules, waiting for the scorer (if any) and the writer.
    struct Candidate {
        var sample: Sample
        var pixels: RGBImage?
        /// The texts to write, in the sample's order: hard negatives as read, positives cleaned;
        /// nil where a rule dropped the text.
        var texts: [SampleText?]
        var hadPositives: Bool
    }

    /// The text as the rules and the frequency count see it.
    func prepared(_ text: String) -> String {
        rules.cleansTexts ? WebTextCleaner.clean(text) : text
    }

    /// The frequency rule's key: equal texts up to case get equal keys.
    func textKey(_ preparedText: String) -> Int {
        Int(SampleTransform.contentHash(Array(preparedText.lowercased().utf8)))
    }

    /// Image rules, then text rules; nil when the sample is dropped by an image rule.
    private func judge(_ sample: Sample, counter: TextImageCounter?, report: inout FilterReport) -> Candidate? {
        let decodes = scorer != nil || rules.decodesImages
        // Without a scorer the pixels are only checked: a JPEG may decode at 1/8 scale, which still reads the whole stream.
        let shortSide = scorer?.imageShortSide ?? 1
        let image: FilterImage
        switch FilterImage.read(sample.image, decodes: decodes, shortSide: shortSide) {
        case .failure(let problem):
            report.dropSample(.unreadableImage, example: "\(sample.id) (\(problem.reason))")
            return nil
        case .success(let read):
            image = read
        }
        let (width, height) = (image.size.width, image.size.height)
        let shorter = min(width, height), longer = max(width, height)
        if let minimum = rules.minImageSide, shorter < minimum {
            report.dropSample(.smallImage, example: "\(sample.id) (\(width)×\(height))")
            return nil
        }
        if let maximum = rules.maxAspectRatio, Double(longer) / Double(shorter) > maximum {
            report.dropSample(.extremeAspectRatio, example: "\(sample.id) (\(width)×\(height), \(String(format: "%.2f", Double(longer) / Double(shorter))):1)")
            return nil
        }

        var texts: [SampleText?] = []
        var hadPositives = false
        for text in sample.texts {
            guard text.role.isPositive else {
                texts.append(text)
                continue
            }
            hadPositives = true
            var cleaned = text
            cleaned.text = prepared(text.text)
            if let (rule, why) = firstFailedRule(cleaned.text, counter: counter) {
                report.dropText(rule, example: Self.example(sample.id, cleaned.text, why))
                texts.append(nil)
            } else {
                texts.append(cleaned)
            }
        }
        return Candidate(sample: sample, pixels: scorer == nil ? nil : image.pixels, texts: texts, hadPositives: hadPositives)
    }

    /// The first text rule `text` (already cleaned) fails, with the detail for the example.
    private func firstFailedRule(_ text: String, counter: TextImageCounter?) -> (FilterRule, String)? {
        if rules.dropsNoisyTexts, let reason = NoisyTextHeuristics.reason(text) { return (.noisyText, reason) }
        if !rules.blockedWords.isEmpty {
            let lowered = text.lowercased()
            if let word = rules.blockedWords.first(where: { lowered.contains($0.lowercased()) }) { return (.blockedWord, "holds \"\(word)\"") }
        }
        if rules.minCharacters != nil || rules.maxCharacters != nil {
            let count = text.count
            if let minimum = rules.minCharacters, count < minimum { return (.tooFewCharacters, "\(count) characters") }
            if let maximum = rules.maxCharacters, count > maximum { return (.tooManyCharacters, "\(count) characters") }
        }
        if let segmenter, rules.needsWordCounts {
            let count = segmenter.unigramCount(of: text)
            if let minimum = rules.minWords, count < minimum { return (.tooFewWords, "\(count) word\(count == 1 ? "" : "s")") }
            if let maximum = rules.maxWords, count > maximum { return (.tooManyWords, "\(count) words") }
        }
        if let tokenizer, let minimum = rules.minVocabularyRate {
            let rate = tokenizer.vocabularyRate(of: text)
            if rate < minimum { return (.lowVocabularyRate, "vocabulary rate \(String(format: "%.2f", rate))") }
        }
        if let counter {
            let key = textKey(text)
            if counter.isOverLimit(key) { return (.sharedByTooManyImages, "on more than \(counter.limit) images") }
        }
        return nil
    }

    /// Scores the pending samples (with a scorer), applies the similarity rules and writes the
    /// samples that keep a positive text (or never had one).
    private func finish(_ pending: inout [Candidate], into writer: SampleWriter, report: inout FilterReport) throws {
        defer { pending.removeAll(keepingCapacity: true) }
        if let scorer {
            let scored = pending.indices.filter { i in pending[i].pixels != nil && pending[i].texts.contains { $0?.role.isPositive == true } }
            if !scored.isEmpty {
                let positions = scored.map { i in pending[i].texts.indices.filter { pending[i].texts[$0]?.role.isPositive == true } }
                let similarities = try scorer.similarities(images: scored.map { pending[$0].pixels! },
                                                           texts: zip(scored, positions).map { i, js in js.map { pending[i].texts[$0]!.text } })
                for (k, i) in scored.enumerated() {
                    applySimilarityRules(&pending[i], positions: positions[k], similarities: similarities[k], report: &report)
                }
            }
        }
        for candidate in pending {
            let kept = candidate.texts.compactMap { $0 }
            if candidate.hadPositives && !kept.contains(where: { $0.role.isPositive }) {
                report.dropSample(.noTextLeft, example: candidate.sample.id)
                continue
            }
            var sample = candidate.sample
            sample.texts = kept
            try writer.write(sample)
            report.samplesKept += 1
            report.textsKept += kept.count
            report.textsCleaned += zip(candidate.sample.texts, candidate.texts).filter { original, written in
                written.map { $0.text != original.text } ?? false
            }.count
        }
    }

    private func applySimilarityRules(_ candidate: inout Candidate, positions: [Int], similarities: [Float], report: inout FilterReport) {
        var ranked: [(position: Int, similarity: Float)] = []
        for (position, similarity) in zip(positions, similarities) {
            if let minimum = rules.minSimilarity, similarity < minimum {
                report.dropText(.lowSimilarity, example: Self.example(candidate.sample.id, candidate.texts[position]!.text,
                                                                      "cosine \(String(format: "%.3f", similarity))"))
                candidate.texts[position] = nil
            } else {
                ranked.append((position, similarity))
            }
        }
        guard let keep = rules.keepBest, ranked.count > keep else { return }
        // Highest first; equal scores keep reading order.
        let order = ranked.enumerated().sorted { a, b in
            a.element.similarity != b.element.similarity ? a.element.similarity > b.element.similarity : a.offset < b.offset
        }
        for (rank, entry) in order.enumerated() where rank >= keep {
            let position = entry.element.position
            report.dropText(.notAmongBest, example: Self.example(candidate.sample.id, candidate.texts[position]!.text,
                                                                 "cosine \(String(format: "%.3f", entry.element.similarity)), rank \(rank + 1)"))
            candidate.texts[position] = nil
        }
    }

    /// `id: "text" (why)`, the text cut to 60 characters.
    static func example(_ id: String, _ text: String, _ why: String) -> String {
        let shown = text.count > 60 ? String(text.prefix(60)) + "…" : text
        return "\(id): \"\(shown)\" (\(why))"
    }
}
