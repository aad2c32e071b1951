import Foundation

/// Inputs the evaluation metrics refuse, each naming what is wrong and where.
public enum EvaluationError: Error, Equatable, CustomStringConvertible {
    /// A dimension that must be at least 1 (images, texts, items, classes) is not.
    case empty(String)
    /// Two things that must have the same size do not: `what`, the expected and the actual count.
    case countMismatch(String, expected: Int, actual: Int)
    /// Text `text` points at image `image`, outside `0..<images`.
    case textImageOutOfRange(text: Int, image: Int, images: Int)
    /// Image `image` has no text, so image→text recall is undefined for it.
    case imageWithoutText(image: Int)
    /// A score is NaN: `what` and its flat index.
    case notANumber(String, index: Int)
    /// A tensor of the wrong rank or shape: what it is, what was expected, its shape.
    case badShape(String, expected: String, actual: [Int])
    /// A tensor whose dtype cannot hold scores.
    case notFloatingPoint(String, dtype: String)
    /// A binary label other than 0 or 1 at `index`.
    case invalidBinaryLabel(index: Int, label: Int)
    /// AUC and thresholds need both classes; all labels equal `label`.
    case singleClass(label: Int)
    /// A class label outside `0..<classes` at `index`.
    case labelOutOfRange(index: Int, label: Int, classes: Int)
    /// k must be at least 1.
    case invalidK(Int)
    /// A prompt template without the `{}` placeholder for the class name.
    case templateWithoutPlaceholder(String)
    /// A language with no template set.
    case unknownLanguage(String)
    /// A sample of an evaluation set whose image is missing or does not decode (evaluation sets
    /// are used whole, so it is an error, not a skip).
    case unusableSample(set: String, sample: String, reason: String)

    public var description: String {
        switch self {
        case .empty(let what):
            return "\(what) is empty"
        case .unusableSample(let set, let sample, let reason):
            return "evaluation set \(set): sample \(sample): \(reason)"
        case .countMismatch(let what, let expected, let actual):
            return "\(what): expected \(expected), got \(actual)"
        case .textImageOutOfRange(let text, let image, let images):
            return "text \(text) belongs to image \(image), outside 0..<\(images)"
        case .imageWithoutText(let image):
            return "image \(image) has no text: image→text recall needs at least one text per image"
        case .notANumber(let what, let index):
            return "\(what) holds NaN at index \(index)"
        case .badShape(let what, let expected, let actual):
            return "\(what): expected shape \(expected), got \(actual)"
        case .notFloatingPoint(let what, let dtype):
            return "\(what): expected a floating-point tensor, got dtype \(dtype)"
        case .invalidBinaryLabel(let index, let label):
            return "label \(label) at index \(index): binary labels must be 0 or 1"
        case .singleClass(let label):
            return "every label is \(label): AUC and threshold accuracy need both classes"
        case .labelOutOfRange(let index, let label, let classes):
            return "label \(label) at index \(index) is outside 0..<\(classes)"
        case .invalidK(let k):
            return "k = \(k): k must be at least 1"
        case .templateWithoutPlaceholder(let template):
            return "prompt template \"\(template)\" has no {} placeholder for the class name"
        case .unknownLanguage(let language):
            return "no prompt templates for language \"\(language)\" (known: en, zh)"
        }
    }
}
