/// What the data loader and the command line need from any tokenizer (BERT WordPiece, CLIP BPE).
public protocol TextTokenizer: Sendable {
    /// Number of ids (rows of the embedding table).
    var vocabularySize: Int { get }
    /// Id of the padding token.
    var paddingID: Int32 { get }
    /// Token ids of `text` without special tokens, truncation or padding.
    func tokenize(_ text: String) -> [Int32]
    /// The token strings of `ids`; an id outside the vocabulary is a `TextError.invalidArgument`.
    func tokens(for ids: [Int32]) throws -> [String]
    /// `text` with the tokenizer's special tokens, truncated to `maxLength` positions when given
    /// (special tokens kept), then padded to `paddedTo` positions when given.
    func encode(_ text: String, maxLength: Int?, paddedTo: Int?) throws -> TokenizedText
}
