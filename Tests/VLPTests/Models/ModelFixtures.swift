import Foundation
import Torch
import XCTest

/// Paths and comparisons for the model tests: fixtures from scripts/reference/make_model_fixtures.py
/// under Tests/VLPTests/Fixtures/models, real weights under <repo>/assets (fetched by `make assets`).
enum ModelFixtures {
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let directory = repositoryRoot.appendingPathComponent("Tests/VLPTests/Fixtures/models")

    struct MissingAsset: Error, CustomStringConvertible {
        let path: String
        var description: String { "missing asset \(path): run `make assets` first" }
    }

    /// An asset's URL; a missing one throws, failing the test (never a skip).
    static func asset(_ relative: String) throws -> URL {
        let url = repositoryRoot.appendingPathComponent("assets").appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: url.path) else { throw MissingAsset(path: url.path) }
        return url
    }

    static func load(_ name: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        try SafeTensors.read(directory.appendingPathComponent(name))
    }

    static func tensor(_ tensors: [String: Tensor], _ key: String) throws -> Tensor {
        guard let t = tensors[key] else { throw MissingAsset(path: "fixture tensor \(key)") }
        return t
    }
}

/// The largest absolute element difference (shapes must match).
func maxAbsDifference(_ a: Tensor, _ b: Tensor) throws -> Double {
    XCTAssertEqual(a.shape, b.shape)
    guard a.shape == b.shape else { return .infinity }
    return try (a.to(.float64) - b.to(.float64)).abs().max().item()
}

/// Prints a parity line the report quotes (`swift test` shows it).
func reportModelParity(_ what: String, _ difference: Double) {
    print("model-parity: \(what): max |Δ| = \(String(format: "%.3g", difference))")
}
