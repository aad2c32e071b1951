import Foundation

/// The three parts of every built-in set, 8:1:1 as in Zero: item `i` of a set goes to `train`
/// when `i % 10 < 8`, to `valid` when it is 8, to `test` when it is 9.
public enum DataSplit: String, CaseIterable, Sendable {
    case train, valid, test

    public static func of(index: Int) -> DataSplit {
        switch index % 10 {
        case 0..<8: return .train
        case 8: return .valid
        default: return .test
        }
    }

    /// The index's position among the indices of its split.
    static func position(of index: Int) -> Int {
        switch of(index: index) {
        case .train: return index / 10 * 8 + index % 10
        case .valid, .test: return index / 10
        }
    }
}

/// The sets built from scenes, mirroring Zero's: a pretraining corpus (several texts per image),
/// image–caption and image–query matching sets (ICM, IQM: 50/50 match labels, one text per image
/// and language), and image–caption and image–query retrieval sets (ICR, IQR).
public enum ScenesSet: String, CaseIterable, Sendable {
    case pretrain, icm, iqm, icr, iqr

    /// The text kind a downstream set uses.
    var textKind: TextKind? {
        switch self {
        case .pretrain: return nil
        case .icm, .icr: return .title
        case .iqm, .iqr: return .query
        }
    }

    var isMatching: Bool { self == .icm || self == .iqm }
}

/// The built-in bilingual corpus "Scenes": deterministic, seeded images of 1–4 coloured shapes
/// with Chinese and English texts read from each scene graph, plus paraphrased positives and
/// rewritten hard negatives. Every item is computed from (seed, set, index) alone, so any item
/// can be made on its own, in any order, on any thread.
public struct ScenesCorpus: Sendable {
    public var seed: UInt64
    public var languages: [String]
    public var rasterizer: SceneRasterizer
    public var maxObjects: Int

    public init(seed: UInt64, imageSize: Int = 64, languages: [String] = ["zh", "en"],
                noiseAmplitude: Int = 10, maxObjects: Int = 4) throws {
        guard imageSize >= 16 else { throw DatasetError.invalidArgument("scenes: image size \(imageSize) is below 16") }
        guard (1...9).contains(maxObjects) else { throw DatasetError.invalidArgument("scenes: maxObjects must be 1…9") }
        let unknown = languages.filter { !SceneCaptioner.languages.contains($0) }
        guard unknown.isEmpty, !languages.isEmpty else {
            throw DatasetError.invalidArgument("scenes: languages must be among zh, en (got \(languages.joined(separator: ",")))")
        }
        self.seed = seed
        self.languages = languages
        rasterizer = SceneRasterizer(size: imageSize, noiseAmplitude: noiseAmplitude)
        self.maxObjects = maxObjects
    }

    public func scene(_ set: ScenesSet, index: Int) -> Scene {
        var rng = SplitMix64(seed: seed, stream: set.rawValue, index: index)
        return Scene.random(using: &rng, maxObjects: maxObjects)
    }

    public func image(_ scene: Scene) -> RGBImage { rasterizer.render(scene) }

    public static func id(_ set: ScenesSet, index: Int) -> String {
        let digits = String(index)
        return set.rawValue + "-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// A hard negative: the rewritten description and its kind.
    public struct Rewrite: Equatable, Sendable {
        public var kind: RewriteKind
        public var description: SceneDescription
    }

    /// One rewrite of `kind` whose `textKind` text differs from the original's in every
    /// language; nil when the kind does not apply to this description.
    public func rewrite(_ description: SceneDescription, kind: RewriteKind, for textKind: TextKind,
                        using rng: inout SplitMix64) -> Rewrite? {
        let isQuery = textKind == .query
        let groups = isQuery ? 0..<min(SceneCaptioner.queryGroupLimit, description.groups.count) : nil
        if isQuery && kind == .relation { return nil }
        for _ in 0..<8 {
            guard let rewritten = description.rewritten(kind, using: &rng, groupChoices: groups,
                                                        allowsSizeChange: !isQuery) else { return nil }
            let changed = languages.allSatisfy { language in
                text(rewritten, textKind, language: language) != text(description, textKind, language: language)
            }
            if changed { return Rewrite(kind: kind, description: rewritten) }
        }
        return nil
    }

    /// The plain text of one kind for a description.
    public func text(_ d: SceneDescription, _ kind: TextKind, language: String, style: SceneCaptioner.Style = .plain) -> String {
        switch kind {
        case .query: return SceneCaptioner.query(d, language: language, style: style)
        case .content: return SceneCaptioner.content(d, language: language)
        default: return SceneCaptioner.title(d, language: language, style: style)
        }
    }

    /// All texts of a pretraining item: per language the title, content and query, paraphrases of
    /// the title and query, hard negatives of the title (one per applicable rewrite kind) and one
    /// of the query.
    public func pretrainingTexts(_ scene: Scene, index: Int) -> [SampleText] {
        let description = SceneDescription(scene: scene)
        var rng = SplitMix64(seed: seed, stream: "pretrain-negatives", index: index)
        let titleNegatives = RewriteKind.allCases.compactMap { rewrite(description, kind: $0, for: .title, using: &rng) }
        let queryKinds = rng.shuffled([RewriteKind.attribute, .object, .count])
        let queryNegative = queryKinds.lazy.compactMap { self.rewrite(description, kind: $0, for: .query, using: &rng) }.first
        var texts: [SampleText] = []
        for language in languages {
            texts.append(SampleText(text(description, .title, language: language), kind: .title, language: language))
            texts.append(SampleText(text(description, .content, language: language), kind: .content, language: language))
            texts.append(SampleText(text(description, .query, language: language), kind: .query, language: language))
            texts.append(SampleText(text(description, .title, language: language, style: .paraphrase),
                                    kind: .title, language: language, role: .paraphrase))
            texts.append(SampleText(text(description, .query, language: language, style: .paraphrase),
                                    kind: .query, language: language, role: .paraphrase))
            for negative in titleNegatives {
                texts.append(SampleText(text(negative.description, .title, language: language), kind: .title,
                                        language: language, role: .hardNegative(negative.kind)))
            }
            if let queryNegative {
                texts.append(SampleText(text(queryNegative.description, .query, language: language), kind: .query,
                                        language: language, role: .hardNegative(queryNegative.kind)))
            }
        }
        return texts
    }

    /// Item `index` of a set, its image as pixels.
    public func sample(_ set: ScenesSet, index: Int) -> Sample {
        let scene = scene(set, index: index)
        let id = ScenesCorpus.id(set, index: index)
        let pixels = ImagePayload.pixels(image(scene))
        guard let kind = set.textKind else {
            return Sample(id: id, image: pixels, texts: pretrainingTexts(scene, index: index))
        }
        let description = SceneDescription(scene: scene)
        guard set.isMatching else {
            return Sample(id: id, image: pixels, texts: languages.map {
                SampleText(text(description, kind, language: $0), kind: kind, language: $0)
            })
        }
        // Matching: positives and negatives alternate within each split, so each is 50/50.
        let isPositive = DataSplit.position(of: index) % 2 == 0
        var rng = SplitMix64(seed: seed, stream: set.rawValue + "-negatives", index: index)
        let kinds = rng.shuffled(RewriteKind.allCases)
        if !isPositive, let negative = kinds.lazy.compactMap({ self.rewrite(description, kind: $0, for: kind, using: &rng) }).first {
            return Sample(id: id, image: pixels, texts: languages.map {
                SampleText(text(negative.description, kind, language: $0), kind: kind, language: $0,
                           role: .hardNegative(negative.kind))
            }, label: 0)
        }
        if !isPositive {
            // No rewrite applies (never seen in practice: colour and shape changes always do);
            // fall back to another scene's text, which cannot describe this one.
            let other = SceneDescription(scene: self.scene(set, index: index + 1_000_003))
            if other.groups.map({ "\($0.shape)\($0.color)\($0.count)" }) != description.groups.map({ "\($0.shape)\($0.color)\($0.count)" }) {
                return Sample(id: id, image: pixels, texts: languages.map {
                    SampleText(text(other, kind, language: $0), kind: kind, language: $0)
                }, label: 0)
            }
        }
        return Sample(id: id, image: pixels, texts: languages.map {
            SampleText(text(description, kind, language: $0), kind: kind, language: $0)
        }, label: 1)
    }

    /// The indices of `split` among the first `count` items.
    public static func indices(count: Int, split: DataSplit) -> [Int] {
        (0..<max(0, count)).filter { DataSplit.of(index: $0) == split }
    }

    /// The samples of one split of a set of `count` items.
    public func samples(_ set: ScenesSet, count: Int, split: DataSplit) -> [Sample] {
        ScenesCorpus.indices(count: count, split: split).map { sample(set, index: $0) }
    }
}
