import Foundation
import XCTest
@testable import Torch

/// libtorch's exceptions surface as thrown `TorchError`s with its message; nothing crashes.
final class ErrorHandlingTests: TorchTestCase {
    func testMismatchedMatmulThrowsNamingBothShapes() throws {
        let a = try Tensor.ones([2, 3]), b = try Tensor.ones([4, 5])
        XCTAssertThrowsError(try a.matmul(b)) { error in
            guard let e = error as? TorchError else { return XCTFail("not a TorchError: \(error)") }
            XCTAssertTrue(e.message.contains("2x3") && e.message.contains("4x5"), e.message)
            XCTAssertTrue(e.operation.contains("[2, 3]") && e.operation.contains("[4, 5]"), e.operation)
        }
    }

    func testErrorsDoNotLeakIntoLaterCalls() throws {
        XCTAssertThrowsError(try Tensor.ones([2]).reshaped([3]))
        let ok = try Tensor.ones([2, 2]) + 1
        XCTAssertEqual(try ok.sum().item(), 8)
    }

    func testBadInputsThrow() throws {
        let x = try Tensor([1, 2, 3] as [Float])
        XCTAssertThrowsError(try x.toArray(Int64.self))
        XCTAssertThrowsError(try Tensor([1, 2, 3] as [Float], shape: [2, 2]))
        XCTAssertThrowsError(try x.item())
        XCTAssertThrowsError(try x.select(dim: 0, index: 7))
        XCTAssertThrowsError(try cat([x, try Tensor.ones([2, 2])]))
        XCTAssertThrowsError(try Functional.crossEntropy(try Tensor.randn([2, 3]), try Tensor([5, 0] as [Int64])))
        XCTAssertThrowsError(try Functional.embedding(try Tensor([10] as [Int64]), weight: try Tensor.randn([4, 2])))
        XCTAssertThrowsError(try Tensor.ones([2]).backward())  // non-scalar without gradient, and no grad_fn
        XCTAssertThrowsError(try Tensor([1, 2] as [Int64]).requiringGrad())
    }

    func testErrorsOnAnotherThreadStayThere() throws {
        let group = DispatchGroup()
        final class Messages: @unchecked Sendable {
            let lock = NSLock()
            var items: [String] = []
            func append(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
        }
        let messages = Messages()
        for _ in 0..<4 {
            DispatchQueue.global().async(group: group) {
                do { _ = try Tensor.ones([2, 3]).matmul(try Tensor.ones([2, 3])) } catch { messages.append("\(error)") }
            }
        }
        group.wait()
        XCTAssertEqual(messages.items.count, 4)
        XCTAssertTrue(messages.items.allSatisfy { $0.contains("2x3") })
        XCTAssertNotNil(try? Tensor.ones([1]) + 1)
    }
}
