import Foundation
import Torch

/// CLIP's attention pool over a ResNet's last feature map: the positions' mean is prepended as a
/// query token, learned positions are added to all tokens, and one multi-head attention layer
/// (q, k, v projections with bias, 1/√head-width scaling, output projection `c_proj`) reads them;
/// the mean token's output is the image's vector. Keys as OpenAI's `attnpool`:
/// `positional_embedding` [grid² + 1, width], `q_proj`, `k_proj`, `v_proj`, `c_proj`.
///
/// Every token's output is computed (each query attends independently, so the mean token's is
/// exactly CLIP's): the rest serve as the tower's per-position states, in the output width.
public final class AttentionPool2d: Module {
    @Parameter(key: "positional_embedding") public var positionalEmbedding: Tensor
    @Child(key: "q_proj") var queryProjection: Linear
    @Child(key: "k_proj") var keyProjection: Linear
    @Child(key: "v_proj") var valueProjection: Linear
    @Child(key: "c_proj") var outputProjection: Linear
    public let heads: Int
    public let gridSize: Int

    public init(gridSize: Int, width: Int, heads: Int, outputDim: Int) throws {
        _positionalEmbedding.wrappedValue = try Initialization.normal([gridSize * gridSize + 1, width], std: 1 / Double(width).squareRoot())
        _queryProjection.wrappedValue = try Linear(width, width)
        _keyProjection.wrappedValue = try Linear(width, width)
        _valueProjection.wrappedValue = try Linear(width, width)
        _outputProjection.wrappedValue = try Linear(width, outputDim)
        self.heads = heads
        self.gridSize = gridSize
        super.init()
    }

    /// - Parameter map: [B, width, grid, grid].
    /// - Returns: [B, 1 + grid², outputDim]: the mean token's output first, then each position's.
    public func callAsFunction(_ map: Tensor) throws -> Tensor {
        let (batch, width) = (map.size(0), map.size(1))
        guard map.rank == 4, map.size(2) == gridSize, map.size(3) == gridSize else {
            throw ModelError.invalidInput(name: "feature map", reason: "expected [B, \(width), \(gridSize), \(gridSize)] (the attention pool's positions), got \(map.shape)")
        }
        let positions = try map.flattened(startDim: 2).transposed(1, 2)  // [B, grid², width]
        let tokens = try cat([positions.mean(dim: 1, keepDims: true), positions], dim: 1) + positionalEmbedding
        let count = tokens.size(1), headWidth = width / heads
        func split(_ x: Tensor) throws -> Tensor { try x.reshaped([batch, count, heads, headWidth]).transposed(1, 2) }
        let attended = try Functional.scaledDotProductAttention(query: split(queryProjection(tokens)), key: split(keyProjection(tokens)),
                                                                value: split(valueProjection(tokens))).output
        return try outputProjection(attended.transposed(1, 2).reshaped([batch, count, width]))
    }
}
