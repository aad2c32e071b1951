import Torch

/// A batch of tokenized texts as the tensors the text towers and cross encoders take — the one
/// shape texts travel in: the loader's `Batch`, a training step's `PretrainingInputs`, an
/// `EvaluationSet` and every embedding call hold one. Each tensor is int64 [B, L]; rows are padded
/// on the right with the tokenizer's padding id (mask 0).
public struct TextBatch {
    public let inputIDs: Tensor
    /// 1 for real tokens, 0 for padding.
    public let attentionMask: Tensor
    /// Segment ids (all 0 for single texts).
    public let tokenTypeIDs: Tensor
    /// MLM inputs (chosen positions replaced) and targets (the original id there, -100
    /// elsewhere), when the texts were masked.
    public let maskedInputIDs: Tensor?
    public let mlmLabels: Tensor?

    public init(inputIDs: Tensor, attentionMask: Tensor, tokenTypeIDs: Tensor, maskedInputIDs: Tensor? = nil, mlmLabels: Tensor? = nil) {
        (self.inputIDs, self.attentionMask, self.tokenTypeIDs) = (inputIDs, attentionMask, tokenTypeIDs)
        (self.maskedInputIDs, self.mlmLabels) = (maskedInputIDs, mlmLabels)
    }

    /// Texts padded to the longest of them.
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
        self.init(inputIDs: try Tensor(ids, shape: shape).to(device: device), attentionMask: try Tensor(mask, shape: shape).to(device: device),
                  tokenTypeIDs: try Tensor(types, shape: shape).to(device: device))
    }

    /// Texts in rows of one length (the loader pads every text to the context length), with their
    /// masked versions when every row has one.
    init(rows ids: [[Int32]], attentionMask: [[Int32]], tokenTypeIDs: [[Int32]], masked: [MaskedTokens]?) throws {
        let length = ids.first?.count ?? 0
        func matrix(_ rows: [[Int32]]) throws -> Tensor {
            var flat: [Int64] = []
            flat.reserveCapacity(rows.count * length)
            for row in rows { flat.append(contentsOf: row.lazy.map(Int64.init)) }
            return try Tensor(flat, shape: [rows.count, length])
        }
        self.init(inputIDs: try matrix(ids), attentionMask: try matrix(attentionMask), tokenTypeIDs: try matrix(tokenTypeIDs),
                  maskedInputIDs: try masked.map { try matrix($0.map(\.inputIDs)) }, mlmLabels: try masked.map { try matrix($0.map(\.labels)) })
    }

    /// Number of texts.
    public var count: Int { inputIDs.size(0) }

    /// The same texts with every tensor on `device`.
    public func to(device: Device) throws -> TextBatch {
        TextBatch(inputIDs: try inputIDs.to(device: device), attentionMask: try attentionMask.to(device: device),
                  tokenTypeIDs: try tokenTypeIDs.to(device: device), maskedInputIDs: try maskedInputIDs?.to(device: device),
                  mlmLabels: try mlmLabels?.to(device: device))
    }

    /// Rows `start..<start + length`.
    public func narrowed(start: Int, length: Int) throws -> TextBatch {
        TextBatch(inputIDs: try inputIDs.narrowed(dim: 0, start: start, length: length),
                  attentionMask: try attentionMask.narrowed(dim: 0, start: start, length: length),
                  tokenTypeIDs: try tokenTypeIDs.narrowed(dim: 0, start: start, length: length),
                  maskedInputIDs: try maskedInputIDs?.narrowed(dim: 0, start: start, length: length),
                  mlmLabels: try mlmLabels?.narrowed(dim: 0, start: start, length: length))
    }
}
