import Foundation

/// How texts and images become a model's inputs: its tokenizer, cut at its context length, and
/// its image pipeline. A model bundle gives it (`ModelBundle.inputs`), training builds it from the
/// run's data section; embedding, evaluation and search take it, so they all prepare inputs the way
/// the model was trained.
public struct InputPipeline: Sendable {
    public var tokenizer: any TextTokenizer
    /// Token positions per text, special tokens included.
    public var contextLength: Int
    /// Evaluation preprocessing of images (no random augmentation).
    public var images: ImagePipeline
    /// Side of the square images `images` produces.
    public var imageSize: Int

    public init(tokenizer: any TextTokenizer, contextLength: Int, images: ImagePipeline, imageSize: Int) {
        (self.tokenizer, self.contextLength, self.images, self.imageSize) = (tokenizer, contextLength, images, imageSize)
    }

    /// `text` tokenized and cut to the context length.
    public func encode(_ text: String) throws -> TokenizedText {
        try tokenizer.encode(text, maxLength: contextLength, paddedTo: nil)
    }

    /// The same pipeline with texts cut at `length` instead (`--context-length`), or unchanged for nil.
    public func withContextLength(_ length: Int?) -> InputPipeline {
        guard let length else { return self }
        var copy = self
        copy.contextLength = length
        return copy
    }
}
