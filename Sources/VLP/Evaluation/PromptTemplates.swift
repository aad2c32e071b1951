import Foundation

/// The template sets of zero-shot evaluation, added to the data layer's `PromptTemplates`
/// (Data/Formats/ClassPrompts.swift), where `{}` marks where the class name goes.
///
/// Our own short sets in the spirit of CLIP's ImageNet templates (`"a photo of a {}."`) and
/// Chinese-CLIP's translated ones (`cn_clip/eval/imagenet_zeroshot_templates.py`,
/// `'{c}的照片。'`); `ZeroShotClassifier` averages the text features of all of them per class
/// (prompt ensembling).
extension PromptTemplates {
    /// English templates.
    public static let english: [String] = [
        "a photo of a {}.",
        "a bad photo of a {}.",
        "a close-up photo of a {}.",
        "a low resolution photo of a {}.",
        "a bright photo of a {}.",
        "a cropped photo of a {}.",
        "a drawing of a {}.",
        "a photo of the large {}.",
        "a photo of the small {}.",
        "itap of a {}.",
    ]

    /// Chinese templates.
    public static let chinese: [String] = [
        "一张{}的照片。",
        "{}的照片。",
        "一张{}的糟糕照片。",
        "{}的特写照片。",
        "{}的低分辨率照片。",
        "一张{}的明亮照片。",
        "{}的裁剪照片。",
        "一幅{}的画。",
        "一张大{}的照片。",
        "一张小{}的照片。",
    ]

    /// The placeholder a template holds for the class name.
    public static let placeholder = "{}"

    /// `english` and `chinese` as a template set for `PromptedLabelReader`.
    public static let zeroShot = PromptTemplates(byLanguage: ["en": english, "zh": chinese])

    /// `template` with every `{}` replaced by `name` (a template without `{}` comes back
    /// unchanged; `ZeroShotClassifier` refuses such templates).
    public static func fill(_ template: String, with name: String) -> String {
        template.replacingOccurrences(of: placeholder, with: name)
    }

    /// The languages `templates(language:)` has a set for.
    public static let languages = ["en", "zh"]

    /// The template set of a language: `en` → `english`, `zh` → `chinese` (case-insensitive);
    /// anything else throws `EvaluationError.unknownLanguage`.
    public static func templates(language: String) throws -> [String] {
        switch language.lowercased() {
        case "en": return english
        case "zh": return chinese
        default: throw EvaluationError.unknownLanguage(language)
        }
    }
}
