import Foundation

/// What an import takes besides the checkpoint: the values its tensor shapes cannot tell.
public struct ImportOptions: Sendable {
    /// A configuration to take the head counts (and every other size) from, checked against the
    /// checkpoint's shapes; nil: the family's conventions decide the heads.
    public var configuration: VLPModelConfiguration?
    /// Where `configuration` came from (a name or a file), for messages.
    public var configurationSource: String
    /// The tokenizer's vocabulary file copied into the bundle; nil: the family's own under `./assets`.
    public var vocabulary: URL?
    /// Token positions per text; nil: the family's own (Chinese-CLIP: 52; OpenCLIP: the text
    /// tower's position count, 77).
    public var contextLength: Int?
    /// The towers' feed-forward activation, which the weights do not record: OpenAI's CLIP weights
    /// were trained with QuickGELU, OpenCLIP's own models with GELU. nil: `configuration`'s, else
    /// the family's default (OpenCLIP: GELU, as its named configs without "-quickgelu";
    /// Chinese-CLIP: QuickGELU, the only one it uses).
    public var activation: TransformerMLP.ActivationKind?

    public init(configuration: VLPModelConfiguration? = nil, configurationSource: String = "--config",
                vocabulary: URL? = nil, contextLength: Int? = nil, activation: TransformerMLP.ActivationKind? = nil) {
        self.configuration = configuration
        self.configurationSource = configurationSource
        self.vocabulary = vocabulary
        self.contextLength = contextLength
        self.activation = activation
    }

    /// These options with `activation` set to `kind` where neither `activation` nor
    /// `configuration` states one.
    public func assuming(activation kind: TransformerMLP.ActivationKind) -> ImportOptions {
        var options = self
        if activation == nil && configuration == nil { options.activation = kind }
        return options
    }
}
