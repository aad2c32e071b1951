import Torch
import XCTest

/// Large fp32 products without autograd are split across the intra-op pool, each part one
/// single-threaded BLAS call (CTorch/PooledProducts.cpp). The split must give what libtorch's own
/// call gives — which runs when an operand requires a gradient — for row counts that do and do
/// not divide among the threads, with and without a bias, and in attention's batched products.
final class PooledProductTests: TorchTestCase {
    override func setUpWithError() throws {
        guard TorchThreads.blasThreads == 1 else { throw XCTSkip("the split runs only with a single-threaded OpenBLAS") }
        TorchThreads.intraOp = 2
    }

    override func tearDown() {
        TorchThreads.configureDefaults()
        super.tearDown()
    }

    /// The largest absolute difference between the split result and libtorch's (an input that
    /// requires a gradient sends the same call down libtorch's path).
    private func difference(_ body: (Tensor) throws -> Tensor, input: Tensor) throws -> Float {
        let split = try withNoGrad { try body(input) }
        let reference = try body(input.requiringGrad())
        XCTAssertEqual(split.shape, reference.shape)
        return try (split - reference.detached()).abs().max().floats()[0]
    }

    func testLinearMatchesLibtorchForEveryRowSplit() throws {
        manualSeed(11)
        let weight = try Tensor.randn([384, 300]), bias = try Tensor.randn([384])
        // 185 rows over 2 threads (93 + 92), 1 row (one thread), and a 2-D input.
        for shape in [[5, 37, 300], [1, 1, 300 * 12], [64, 300]] {
            let w = shape.last == 300 ? weight : try Tensor.randn([384, shape.last!])
            let b = shape.last == 300 ? bias : try Tensor.randn([384])
            let x = try Tensor.randn(shape)
            XCTAssertLessThanOrEqual(try difference({ try Functional.linear($0, weight: w, bias: b) }, input: x), 1e-5, "\(shape)")
            XCTAssertLessThanOrEqual(try difference({ try Functional.linear($0, weight: w, bias: nil) }, input: x), 1e-5, "\(shape), no bias")
        }
    }

    func testAttentionProductsMatchLibtorch() throws {
        manualSeed(12)
        // [batch, heads, L, d] = 3 × 5 (15 products over 2 threads), 100 queries and keys of 64.
        let q = try Tensor.randn([3, 5, 100, 64]), k = try Tensor.randn([3, 5, 100, 64]), v = try Tensor.randn([3, 5, 100, 64])
        let mask = try Tensor.rand([3, 1, 1, 100]) .> 0.2
        let attended = { (query: Tensor) throws -> Tensor in
            try Functional.scaledDotProductAttention(query: query, key: k, value: v, mask: mask).output
        }
        XCTAssertLessThanOrEqual(try difference(attended, input: q), 1e-5)
        // Transposed operands (the heads split out of [batch, L, heads·d]) too.
        let packed = try Tensor.randn([3, 100, 5 * 64])
        let heads = { (x: Tensor) throws -> Tensor in
            let split = try x.reshaped([3, 100, 5, 64]).transposed(1, 2)
            return try Functional.scaledDotProductAttention(query: split, key: split, value: split).output
        }
        XCTAssertLessThanOrEqual(try difference(heads, input: packed), 1e-5)
    }
}
