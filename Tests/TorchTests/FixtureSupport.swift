import Foundation
import XCTest
@testable import Torch

/// Tensors written by scripts/reference/make_torch_fixtures.py.
enum Fixtures {
    static let folder: URL = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    static func url(_ name: String) -> URL { folder.appendingPathComponent(name) }

    static let ops: [String: Tensor] = load("ops.safetensors")
    static let layers: [String: Tensor] = load("layers.safetensors")
    static let optim: [String: Tensor] = load("optim.safetensors")

    static func load(_ name: String) -> [String: Tensor] {
        do { return try SafeTensors.read(url(name)).tensors } catch { fatalError("fixture \(name): \(error)") }
    }
}

/// Asserts equal shapes and elements within `tolerance` (absolute + relative).
func assertClose(_ actual: Tensor, _ expected: Tensor, tolerance: Double = 1e-5, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) throws {
    XCTAssertEqual(actual.shape, expected.shape, "shape \(message)", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    let a = try actual.to(.float64).toArray(Double.self)
    let e = try expected.to(.float64).toArray(Double.self)
    var worst = 0.0
    for (x, y) in zip(a, e) {
        let error = Swift.abs(x - y) / (1 + Swift.abs(y))
        if !(error <= worst) { worst = error.isNaN ? .infinity : error }
    }
    XCTAssertLessThanOrEqual(worst, tolerance, "max relative error \(worst) \(message)", file: file, line: line)
}
