import XCTest
@testable import Torch

/// `checkpointed`: the recomputed backward gives the plain backward's gradients, replays dropout,
/// reaches parameters behind frozen inputs, reports a failing block, and frees the block.
final class ActivationCheckpointTests: TorchTestCase {
    /// Two linear layers with GELU and dropout between: the block checkpointing recomputes.
    final class Block: Module {
        var first: Linear, second: Linear
        var dropout = Dropout(0.3)
        init(_ width: Int) throws {
            first = try Linear(width, 2 * width)
            second = try Linear(2 * width, width)
            super.init()
        }
        func callAsFunction(_ x: Tensor) throws -> Tensor {
            try x + second(dropout(first(x).gelu()))
        }
    }

    func gradients(checkpointing: Bool, frozenInput: Bool = false, dropoutSeed: UInt64 = 12) throws -> [Tensor] {
        manualSeed(11)
        let blocks = try [Block(6), Block(6)]
        let x = try Tensor.randn([4, 6])
        if !frozenInput { try x.requiringGrad() }
        manualSeed(dropoutSeed)  // the dropout masks
        var h = x
        for block in blocks {
            h = checkpointing ? try checkpointed([h]) { [try block($0[0])] }[0] : try block(h)
        }
        try (h * h).sum().backward()
        let parameters = blocks.flatMap { $0.parameters() }
        return try (frozenInput ? [] : [XCTUnwrap(x.grad)]) + parameters.map { try XCTUnwrap($0.grad, "a parameter got no gradient") }
    }

    func testGradientsEqualThePlainBackwardWithDropoutReplayed() throws {
        let plain = try gradients(checkpointing: false), recomputed = try gradients(checkpointing: true)
        XCTAssertEqual(plain.count, recomputed.count)
        for (a, b) in zip(plain, recomputed) {
            XCTAssertEqual(try a.toArray(Float.self), try b.toArray(Float.self), "checkpointed gradients differ")
        }
        // Other dropout masks give other gradients: a recomputation that did not replay the
        // generator would differ.
        let otherMasks = try gradients(checkpointing: false, dropoutSeed: 13)
        XCTAssertNotEqual(try plain[1].toArray(Float.self), try otherMasks[1].toArray(Float.self))
    }

    func testParametersBehindAnInputWithoutGradientStillLearn() throws {
        let plain = try gradients(checkpointing: false, frozenInput: true), recomputed = try gradients(checkpointing: true, frozenInput: true)
        for (a, b) in zip(plain, recomputed) { XCTAssertEqual(try a.toArray(Float.self), try b.toArray(Float.self)) }
    }

    func testAFailingBlockIsAnErrorInForwardAndInBackward() throws {
        let x = try Tensor.randn([3]).requiringGrad()
        XCTAssertThrowsError(try checkpointed([x]) { _ in throw TorchError("test", "block refused") }) {
            XCTAssertTrue("\($0)".contains("block refused"), "\($0)")
        }
        var calls = 0
        let y = try checkpointed([x]) { inputs in
            calls += 1
            if calls == 2 { throw TorchError("test", "recomputation refused") }
            return [try inputs[0] * 2]
        }[0]
        XCTAssertThrowsError(try y.sum().backward()) { XCTAssertTrue("\($0)".contains("recomputation refused"), "\($0)") }
    }

    func testTheBlockIsReleasedWithTheGraph() throws {
        final class Token {}
        weak var watched: Token?
        try {
            let token = Token()
            watched = token
            let x = try Tensor.randn([3]).requiringGrad()
            let y = try checkpointed([x]) { inputs in _ = token; return [try inputs[0] * 3] }[0]
            XCTAssertNotNil(watched, "the graph keeps the block for backward")
            try y.sum().backward()
            XCTAssertEqual(try XCTUnwrap(x.grad).toArray(Float.self), [3, 3, 3])
        }()
        XCTAssertNil(watched, "the block outlived its graph")
        // Outside grad mode the block just runs.
        let plain = try withNoGrad { try checkpointed([Tensor.ones([2])]) { [try $0[0] + 1] } }
        XCTAssertFalse(plain[0].requiresGrad)
    }
}
