import Torch

/// Tokenized texts as the tensors a text encoder takes: ids, attention mask and token types,
/// each int64 [B, L], padded on the right to the longest text with `paddingID` (mask 0).
public struct TextBatch {
    public let inputIDs: Tensor
    public let attentionMask: Tensor
    public let tokenTypeIDs: Tensor

    public init(_ texts: [TokenizedText], paddingID: Int32, device: Device = .cpu) throws {
        guard !texts.isEmpty else { throw ModelError.invalidInput(name: "texts", reason: "a batch needs at least one text") }
        let length = texts.map(\.count).max()!
        var ids = [Int64](), mask = [Int64](), types = [Int64]()
        ids.reserveCapacity(texts.count * length)
        for text in texts {
            let pad = length - text.count
            ids += text.ids.map(Int64.init) + Array(repeating: Int64(paddingID), count: pad)
            mask += text.attentionMask.map(Int64.init) + Array(repeating: 0, count: pad)
            types += text.tokenTypeIDs.map(Int64.init) + Array(repeating: 0, count: pad)
        }
        let shape = [texts.count, length]
        inputIDs = try Tensor(ids, shape: shape).to(device: device)
        attentionMask = try Tensor(mask, shape: shape).to(device: device)
        tokenTypeIDs = try Tensor(types, shape: shape).to(device: device)
    }
}
