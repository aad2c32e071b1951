import Torch

/// Where a tower's parameters sit along its depth: what runs before the first block (embeddings,
/// a stem), the numbered blocks, and what follows the last (a final norm, a pooler, a head).
/// Fine-tuning reads it to freeze all but the last blocks (`freeze: {image: {except_last: N}}`) and
/// to give each block its own learning rate (`optimizer: {layer_decay: …}`).
public protocol BlockStack {
    /// The number of blocks L.
    var blockCount: Int { get }
    /// The depth of the tower's parameter `name` (a key of the tower's own state dict), as
    /// BEiT's and OpenCLIP's layer-wise decay count it: 0 before the first block, i + 1 in block
    /// i, L + 1 after the last block.
    func depth(ofParameter name: String) -> Int
}

/// A `BlockStack` whose blocks are one numbered list, `PREFIX.i.…` (transformers, EfficientNet).
public protocol NumberedBlockStack: BlockStack {
    /// The key prefix under which block i's parameters live as `PREFIX.i.…` (`encoder.layers`).
    var blockKeyPrefix: String { get }
    /// Key prefixes of what runs before the first block (`embeddings.`, `pre_layrnorm.`).
    var inputKeyPrefixes: [String] { get }
}

extension NumberedBlockStack {
    public func depth(ofParameter name: String) -> Int {
        let blockPrefix = blockKeyPrefix + "."
        if name.hasPrefix(blockPrefix), let index = Int(name.dropFirst(blockPrefix.count).prefix { $0 != "." }) {
            return index + 1
        }
        return inputKeyPrefixes.contains { name.hasPrefix($0) } ? 0 : blockCount + 1
    }
}

extension VisionTransformer: NumberedBlockStack {
    public var blockCount: Int { encoder.layers.count }
    public var blockKeyPrefix: String { "encoder.layers" }
    public var inputKeyPrefixes: [String] { ["embeddings.", "pre_layrnorm."] }
}

extension CLIPTextTransformer: NumberedBlockStack {
    public var blockCount: Int { encoder.layers.count }
    public var blockKeyPrefix: String { "encoder.layers" }
    public var inputKeyPrefixes: [String] { ["embeddings."] }
}

extension BertModel: NumberedBlockStack {
    public var blockCount: Int { encoder.layers.count }
    public var blockKeyPrefix: String { "encoder.layer" }
    public var inputKeyPrefixes: [String] { ["embeddings."] }
}

extension EfficientNet: NumberedBlockStack {
    public var blockCount: Int { blocks.count }
    public var blockKeyPrefix: String { "_blocks" }
    public var inputKeyPrefixes: [String] { ["_conv_stem.", "_bn0."] }
}
