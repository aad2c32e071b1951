import Foundation
import Torch
@testable import VLP

/// A folder of import fixtures made by a script in scripts/reference/: `reference.safetensors`
/// holds the reference implementation's outputs, its metadata the texts and photo names used.
protocol ReferenceFixtures {
    static var directory: URL { get }
}

extension ReferenceFixtures {
    static func reference() throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        try SafeTensors.read(directory.appendingPathComponent("reference.safetensors"))
    }

    static func texts(_ metadata: [String: String]) throws -> [String] {
        try JSONDecoder().decode([String].self, from: Data((metadata["texts"] ?? "[]").utf8))
    }

    /// The photos' paths under assets/photos.
    static func photos(_ metadata: [String: String]) throws -> [String] {
        try JSONDecoder().decode([String].self, from: Data((metadata["photos"] ?? "[]").utf8)).map { try ModelFixtures.asset("photos/\($0)").path }
    }
}
