import XCTest
@testable import Torch

final class AutogradTests: TorchTestCase {
    func testBackwardAccumulatesAndZeroGradClears() throws {
        let x = try Tensor([1, 2, 3] as [Float]).requiringGrad()
        let y = try (x * x).sum()
        try y.backward(retainGraph: true)
        XCTAssertEqual(try x.grad?.toArray(Float.self), [2, 4, 6])
        try y.backward()
        XCTAssertEqual(try x.grad?.toArray(Float.self), [4, 8, 12])
        x.zeroGrad()
        XCTAssertNil(x.grad)
        XCTAssertThrowsError(try y.backward(), "graph was freed without retainGraph")
    }

    func testUpstreamGradientAndDetach() throws {
        let x = try Tensor([1, 2] as [Float]).requiringGrad()
        let y = try x * 3
        try y.backward(try Tensor([1, 10] as [Float]))
        XCTAssertEqual(try x.grad?.toArray(Float.self), [3, 30])
        let d = try y.detached()
        XCTAssertFalse(d.requiresGrad)
        XCTAssertTrue(x.isLeaf)
        XCTAssertFalse(y.isLeaf)
    }

    func testNoGradAndInferenceMode() throws {
        let x = try Tensor.ones([2]).requiringGrad()
        let y = try withNoGrad { try x * 2 }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue(isGradEnabled)
        let z = try withInferenceMode { try x * 2 }
        XCTAssertFalse(z.requiresGrad)
        XCTAssertTrue(try (x * 2).requiresGrad)
    }

    func testGradientsFunction() throws {
        let x = try Tensor([2] as [Float]).requiringGrad()
        let unused = try Tensor([1] as [Float]).requiringGrad()
        let y = try x.pow(3).sum()
        let grads = try gradients(of: [y], withRespectTo: [x, unused])
        XCTAssertEqual(try grads[0]?.toArray(Float.self), [12])
        XCTAssertNil(grads[1])
        XCTAssertNil(x.grad)
    }
}
