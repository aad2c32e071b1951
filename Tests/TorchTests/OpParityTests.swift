import XCTest
@testable import Torch

/// Each op against PyTorch's output and input gradients on the fixture inputs.
final class OpParityTests: TorchTestCase {
    typealias F = Functional

    /// Case name → our implementation of the same computation.
    static let cases: [String: ([Tensor]) throws -> Tensor] = [
        "add_broadcast": { try $0[0] + $0[1] },
        "sub": { try $0[0] - $0[1] },
        "mul_scalar": { try $0[0] * 2.5 + 1.0 },
        "div": { try $0[0] / $0[1] },
        "pow": { try $0[0].abs().pow(1.7) },
        "matmul": { try $0[0].matmul($0[1]) },
        "matmul_batched": { try $0[0].matmul($0[1]) },
        "bmm": { try $0[0].bmm($0[1]) },
        "sum_dims": { try $0[0].sum(dims: [0, 2], keepDims: true) },
        "mean_dim": { try $0[0].mean(dim: 1) },
        "amax": { try $0[0].max(dims: [-1]) },
        "logsumexp": { try $0[0].logsumexp(dim: 1) },
        "norm": { try $0[0].norm(2, dims: [1]) },
        "exp": { try $0[0].exp() },
        "log": { try ($0[0].abs() + 0.1).log() },
        "sqrt": { try ($0[0].abs() + 0.1).sqrt() },
        "tanh": { try $0[0].tanh() },
        "sigmoid": { try $0[0].sigmoid() },
        "clamp": { try $0[0].clamp(min: -0.5, max: 0.7) },
        "relu": { try $0[0].relu() },
        "silu": { try $0[0].silu() },
        "gelu": { try $0[0].gelu() },
        "gelu_tanh": { try $0[0].gelu(approximate: .tanh) },
        "softmax": { try $0[0].softmax(dim: -1) },
        "log_softmax": { try $0[0].logSoftmax(dim: 1) },
        "layer_norm": { try F.layerNorm($0[0], normalizedShape: [6], weight: $0[1], bias: $0[2]) },
        "linear": { try F.linear($0[0], weight: $0[1], bias: $0[2]) },
        "embedding": { try F.embedding($0[1], weight: $0[0]) },
        "conv2d": { try F.conv2d($0[0], weight: $0[1], bias: $0[2], stride: (2, 2), padding: (1, 1)) },
        "conv2d_groups": { try F.conv2d($0[0], weight: $0[1], padding: (1, 1), groups: 4) },
        "batch_norm_eval": {
            try F.batchNorm($0[0], runningMean: Fixtures.ops["batch_norm_eval.mean"]!.to($0[0].dtype), runningVariance: Fixtures.ops["batch_norm_eval.var"]!.to($0[0].dtype),
                            weight: $0[1], bias: $0[2])
        },
        "transpose_reshape": { try $0[0].transposed(0, 2).reshaped([4, -1]) },
        "permute": { try $0[0].permuted([2, 0, 1]).contiguous() },
        "cat": { try cat([$0[0], $0[1]], dim: 1) },
        "stack": { try stack([$0[0], $0[1]], dim: 1) },
        "narrow_slice": { try $0[0].narrowed(dim: 1, start: 1, length: 2).slice(dim: 2, 1..<4, step: 2) },
        "index_select": { try $0[0].indexSelect(dim: 0, $0[1]) },
        "gather": { try $0[0].gather(dim: 1, $0[1]) },
        "scatter": { try $0[0].scatter(dim: 1, $0[1], $0[2]) },
        "masked_fill": { try $0[0].maskedFill($0[1], -1.5) },
        "where": { try `where`($0[0], $0[1], $0[2]) },
        "expand": { try $0[0].expanded([3, 4]) * 1.0 },
        "cross_entropy": { try F.crossEntropy($0[0], $0[1]) },
        "cross_entropy_ignore": { try F.crossEntropy($0[0], $0[1], ignoreIndex: -100) },
        "cross_entropy_smoothing": { try F.crossEntropy($0[0], $0[1], labelSmoothing: 0.1) },
        "cross_entropy_weighted": { try F.crossEntropy($0[0], $0[1], weight: Fixtures.ops["cross_entropy_weighted.weight"]!.to($0[0].dtype)) },
        "cross_entropy_soft": { try F.crossEntropy($0[0], $0[1]) },
        "cross_entropy_seq": { try F.crossEntropy($0[0], $0[1], ignoreIndex: -100) },
        "bce_logits": { try F.binaryCrossEntropyWithLogits($0[0], $0[1], positiveWeight: Fixtures.ops["bce_logits.pos_weight"]!.to($0[0].dtype)) },
        "mse": { try F.mseLoss($0[0], $0[1]) },
        "normalize": { try F.normalize($0[0], dim: -1) },
        "cosine_similarity": { try F.cosineSimilarity($0[0], $0[1], dim: 1) },
        "sdpa_padding": { try F.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], mask: $0[3]).output },
        "sdpa_causal": { try F.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], isCausal: true).output },
    ]

    static func inputs(_ name: String) -> [Tensor] {
        var result: [Tensor] = []
        while let t = Fixtures.ops["\(name).in\(result.count)"] { result.append(t) }
        return result
    }

    func testEveryFixtureCaseHasAnImplementation() {
        let names = Set(Fixtures.ops.keys.filter { $0.hasSuffix(".out") }.map { String($0.dropLast(4)) })
        XCTAssertEqual(names, Set(Self.cases.keys))
    }

    func testForwardAndGradientsMatchPyTorch() throws {
        for (name, op) in Self.cases.sorted(by: { $0.key < $1.key }) {
            let inputs = try Self.inputs(name).map { t in
                try t.dtype.isFloatingPoint ? t.clone().detached().requiringGrad() : t
            }
            let out = try op(inputs)
            try assertClose(out, Fixtures.ops["\(name).out"]!, tolerance: 1e-5, name)
            guard let upstream = Fixtures.ops["\(name).upstream"] else { continue }
            try (out * upstream).sum().backward()
            for (i, input) in inputs.enumerated() {
                guard let expected = Fixtures.ops["\(name).grad\(i)"] else { continue }
                guard let grad = input.grad else { XCTFail("\(name): no gradient for input \(i)"); continue }
                try assertClose(grad, expected, tolerance: 1e-5, "\(name) grad\(i)")
            }
        }
    }
}
