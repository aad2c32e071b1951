import Foundation
import Torch
import XCTest
@testable import VLP

final class CrossEncoderTests: TorchTestCase {
    static func configuration(normFirst: Bool = false) -> CrossEncoderConfiguration {
        CrossEncoderConfiguration(width: 16, layers: 2, heads: 4, mlpWidth: 24, queryInputWidth: 12, contextInputWidth: 20,
                                  layerNormEps: 1e-12, dropout: 0, normFirst: normFirst)
    }

    func testShapesKeysAndReturnedWeights() throws {
        manualSeed(1)
        let encoder = try CrossEncoder(Self.configuration())
        let output = try encoder(queries: Tensor.randn([3, 5, 12]), context: Tensor.randn([3, 7, 20]), returnCrossAttention: true)
        XCTAssertEqual(output.hiddenStates.shape, [3, 5, 16])
        XCTAssertEqual(output.crossAttentionWeights.count, 2)
        for w in output.crossAttentionWeights {
            XCTAssertEqual(w.shape, [3, 4, 5, 7])
            let rowSums = try w.sum(dim: -1)
            XCTAssertLessThan(try (rowSums - 1).abs().max().item(), 1e-5)
        }
        XCTAssertTrue(try encoder(queries: Tensor.randn([1, 2, 12]), context: Tensor.randn([1, 3, 20])).crossAttentionWeights.isEmpty)
        let keys = Set(encoder.stateDict().map(\.name))
        for key in ["query_map.weight", "context_map.bias", "layers.0.self_attn.q_proj.weight", "layers.1.cross_attn.k_proj.weight",
                    "layers.1.cross_attn.out_proj.bias", "layers.0.self_attn_layer_norm.weight", "layers.0.cross_attn_layer_norm.bias",
                    "layers.1.mlp.fc1.weight", "layers.1.mlp.fc2.bias", "layers.1.final_layer_norm.weight"] {
            XCTAssertTrue(keys.contains(key), key)
        }
        XCTAssertEqual(keys.count, 4 + 2 * 26)
    }

    /// Padded context tokens get zero weight and do not influence the output; padded queries do
    /// not influence the real queries.
    func testMasksIgnorePadding() throws {
        for normFirst in [false, true] {
            manualSeed(2)
            let encoder = try CrossEncoder(Self.configuration(normFirst: normFirst))
            let queries = try Tensor.randn([2, 6, 12]), context = try Tensor.randn([2, 7, 20])
            let queryMask = try Tensor([Int64(1), 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1], shape: [2, 6])
            let contextMask = try Tensor([Int64(1), 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1], shape: [2, 7])
            let a = try encoder(queries: queries, queryMask: queryMask, context: context, contextMask: contextMask, returnCrossAttention: true)
            // Change the padded positions' values: real outputs must not move.
            let noise = try Tensor.randn([2, 7, 20]) * 10
            let contextKeep = try contextMask.to(.float32).unsqueezed(dim: -1)
            let otherContext = try context * contextKeep + noise * (1 - contextKeep)
            let queryKeep = try queryMask.to(.float32).unsqueezed(dim: -1)
            let otherQueries = try queries * queryKeep + (try Tensor.randn([2, 6, 12]) * 10) * (1 - queryKeep)
            let b = try encoder(queries: otherQueries, queryMask: queryMask, context: otherContext, contextMask: contextMask)
            let realA = try a.hiddenStates.narrowed(dim: 1, start: 0, length: 4)
            let realB = try b.hiddenStates.narrowed(dim: 1, start: 0, length: 4)
            XCTAssertLessThan(try maxAbsDifference(realA, realB), 1e-5, "normFirst \(normFirst)")
            XCTAssertLessThan(try maxAbsDifference(a.hiddenStates[1], b.hiddenStates[1]), 1e-5)
            let padWeights = try a.crossAttentionWeights[0][0].narrowed(dim: -1, start: 5, length: 2)
            XCTAssertEqual(try padWeights.abs().max().item(), 0)
            // Without masks, the same change does move them (the test can fail).
            let c = try encoder(queries: queries, context: context)
            let d = try encoder(queries: otherQueries, context: otherContext)
            XCTAssertGreaterThan(try maxAbsDifference(c.hiddenStates[0], d.hiddenStates[0]), 1e-3)
        }
    }

    /// Autograd against central finite differences in float64, for the inputs and a weight.
    func testGradientsMatchFiniteDifferences() throws {
        for normFirst in [false, true] {
            manualSeed(3)
            let encoder = try CrossEncoder(Self.configuration(normFirst: normFirst))
            try encoder.to(.cpu, dtype: .float64)
            let queryMask = try Tensor([Int64(1), 1, 1, 0], shape: [1, 4])
            let contextMask = try Tensor([Int64(1), 1, 0], shape: [1, 3])
            let failures = try GradientCheck.check("cross encoder (normFirst \(normFirst))", { xs in
                try encoder(queries: xs[0], queryMask: queryMask, context: xs[1], contextMask: contextMask).hiddenStates
            }, [Tensor.randn([1, 4, 12], dtype: .float64), Tensor.randn([1, 3, 20], dtype: .float64)], samples: 4)
            XCTAssertEqual(failures, [])

            // A parameter: the cross-attention key projection of the last layer.
            let queries = try Tensor.randn([1, 4, 12], dtype: .float64), context = try Tensor.randn([1, 3, 20], dtype: .float64)
            let upstream = try Tensor.randn([1, 4, 16], dtype: .float64)
            func loss() throws -> Tensor {
                try (encoder(queries: queries, queryMask: queryMask, context: context, contextMask: contextMask).hiddenStates * upstream).sum()
            }
            encoder.zeroGrad()
            try loss().backward()
            let weight = encoder.layers[1].crossAttention.keyProjection.weight
            let grad = try XCTUnwrap(weight.grad).toArray(Double.self)
            let h = 1e-6
            for k in stride(from: 0, to: weight.count, by: 61) {
                let flat = try weight.reshaped([-1])
                let original = try flat[k].item()
                try withNoGrad { try flat[k].fill_(original + h) }
                let plus = try withNoGrad { try loss().item() }
                try withNoGrad { try flat[k].fill_(original - h) }
                let minus = try withNoGrad { try loss().item() }
                try withNoGrad { try flat[k].fill_(original) }
                let numeric = (plus - minus) / (2 * h)
                XCTAssertEqual(grad[k], numeric, accuracy: 1e-5 * (1 + abs(numeric)), "k_proj.weight[\(k)]")
            }
        }
    }

    func testInvalidInputsAreNamed() throws {
        let encoder = try CrossEncoder(Self.configuration())
        XCTAssertThrowsError(try encoder(queries: Tensor.randn([1, 2, 16]), context: Tensor.randn([1, 3, 20]))) {
            XCTAssertTrue("\($0)".contains("queries"), "\($0)")
        }
        XCTAssertThrowsError(try encoder(queries: Tensor.randn([1, 2, 12]), context: Tensor.randn([2, 3, 20]))) {
            XCTAssertTrue("\($0)".contains("context"), "\($0)")
        }
        XCTAssertThrowsError(try encoder(queries: Tensor.randn([1, 2, 12]), context: Tensor.randn([1, 3, 20]),
                                         contextMask: Tensor.ones([1, 2], dtype: .int64))) {
            XCTAssertTrue("\($0)".contains("contextMask"), "\($0)")
        }
        var bad = Self.configuration()
        bad.heads = 5
        XCTAssertThrowsError(try CrossEncoder(bad)) { XCTAssertTrue("\($0)".contains("heads"), "\($0)") }
    }
}
