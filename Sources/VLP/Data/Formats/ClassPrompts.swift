import Foundation

/// Class names in one or more languages, index = label.
public struct ClassNames: Equatable, Sendable {
    public var byLanguage: [String: [String]]

    public init(byLanguage: [String: [String]]) { self.byLanguage = byLanguage }

    /// The same names for a language (e.g. folder names).
    public init(_ names: [String], language: String) { byLanguage = [language: names] }
}

/// Zero-shot prompt templates: `{}` stands for the class name.
public struct PromptTemplates: Equatable, Sendable {
    public var byLanguage: [String: [String]]

    public init(byLanguage: [String: [String]]) { self.byLanguage = byLanguage }

    /// The usual single prompts, Chinese and English.
    public static let standard = PromptTemplates(byLanguage: [
        "zh": ["一张{}的照片。"],
        "en": ["a photo of a {}."],
    ])

    /// A few more, for prompt ensembling.
    public static let ensemble = PromptTemplates(byLanguage: [
        "zh": ["一张{}的照片。", "这是一张{}的图片。", "图中有一个{}。", "{}。"],
        "en": ["a photo of a {}.", "a picture of a {}.", "an image showing a {}.", "a {}."],
    ])

    public func render(_ name: String, language: String) -> [String] {
        (byLanguage[language] ?? []).map { $0.replacingOccurrences(of: "{}", with: name) }
    }
}

/// Turns a label set into image–text pairs: each labelled sample gains one text per template
/// and language, the class name put in (`一张连衣裙的照片。`, `a photo of a dress.`).
/// Samples whose label names no class are reported and skipped.
public final class PromptedLabelReader: SampleReader {
    public let base: SampleReader
    public let classNames: ClassNames
    public let templates: PromptTemplates
    private var ownSkips: [SkippedRecord] = []

    public init(_ base: SampleReader, classNames: ClassNames, templates: PromptTemplates = .standard) {
        self.base = base
        self.classNames = classNames
        self.templates = templates
    }

    public var skipped: [SkippedRecord] { base.skipped + ownSkips }

    public func next() throws -> Sample? {
        while var sample = try base.next() {
            var texts: [SampleText] = []
            for language in classNames.byLanguage.keys.sorted() {
                guard let names = classNames.byLanguage[language], let label = sample.label,
                      names.indices.contains(label) else { continue }
                for text in templates.render(names[label], language: language) {
                    texts.append(SampleText(text, kind: .classPrompt, language: language))
                }
            }
            guard !texts.isEmpty else {
                ownSkips.append(SkippedRecord(file: sample.id, line: nil,
                                              reason: "label \(sample.label.map(String.init) ?? "none") names no class"))
                continue
            }
            sample.texts = texts
            return sample
        }
        return nil
    }
}
