import Foundation
import Torch
import XCTest
@testable import VLP

/// What the import tests of every family share: a scratch folder removed after the test,
/// normalised features, errors that must name each given part, and a fixture checkpoint
/// imported after an edit of its tensors.
class ImportTestCase: TorchTestCase {
    /// The scratch folders' name prefix.
    class var scratchName: String { "import" }

    func folder() throws -> URL {
        let url = try temporaryFolder(Self.scratchName)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func normalized(_ t: Tensor) throws -> Tensor { try Functional.normalize(t, dim: -1) }

    func assertFails(_ expected: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            let message = "\(error)"
            for part in expected { XCTAssertTrue(message.contains(part), "\"\(part)\" not in: \(message)", file: file, line: line) }
        }
    }

    /// The towers' raw image and text features (computed by the caller on the reference's own
    /// inputs), their logit scale and the scaled cosine logits against the reference's outputs
    /// under `prefix` + `image_features`, `text_features`, `logit_scale`, `logits_per_image`:
    /// features and scale to 1e-5, logits (cosines times a scale of about 19) to 1e-4; each
    /// difference reported under `label`.
    func assertReferenceOutputs(_ towers: DualEncoder, image: Tensor, text: Tensor, reference: [String: Tensor], prefix: String = "",
                                label: String, file: StaticString = #filePath, line: UInt = #line) throws {
        func expected(_ name: String) throws -> Tensor { try ModelFixtures.tensor(reference, prefix + name) }
        let imageDiff = try maxAbsDifference(image, expected("image_features"))
        let textDiff = try maxAbsDifference(text, expected("text_features"))
        let scale = try towers.temperature.scale()
        let scaleDiff = try maxAbsDifference(scale, expected("logit_scale"))
        let logits = try (scale * normalized(image)).matmul(normalized(text).transposed(0, 1))
        let logitsDiff = try maxAbsDifference(logits, expected("logits_per_image"))
        reportModelParity("\(label) image features", imageDiff)
        reportModelParity("\(label) text features", textDiff)
        reportModelParity("\(label) logit scale", scaleDiff)
        reportModelParity("\(label) logits per image", logitsDiff)
        XCTAssertLessThanOrEqual(imageDiff, 1e-5, "\(label) image features", file: file, line: line)
        XCTAssertLessThanOrEqual(textDiff, 1e-5, "\(label) text features", file: file, line: line)
        XCTAssertLessThanOrEqual(scaleDiff, 1e-5, "\(label) logit scale", file: file, line: line)
        XCTAssertLessThanOrEqual(logitsDiff, 1e-4, "\(label) logits per image", file: file, line: line)
    }

    /// `vlp embed KIND --checkpoint BUNDLE --json INPUTS` through the CLI: one normalised feature
    /// per input, within 1e-5 of `expected` (the reference's raw features, normalised here).
    func assertCLIEmbedding(_ kind: String, bundle: URL, inputs: [String], expected: Tensor, label: String,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let embedded = try runVLP(["embed", kind, "--checkpoint", bundle.path, "--json"] + inputs)
        XCTAssertEqual(embedded.status, 0, embedded.errors, file: file, line: line)
        let rows = try embedded.output.split(separator: "\n").map { line -> [Float] in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return (object?["embedding"] as? [Double] ?? []).map(Float.init)
        }
        XCTAssertEqual(rows.count, inputs.count, file: file, line: line)
        let difference = try maxAbsDifference(Tensor(rows.flatMap { $0 }, shape: [rows.count, rows.first?.count ?? 0]), normalized(expected))
        reportModelParity(label, difference)
        XCTAssertLessThanOrEqual(difference, 1e-5, label, file: file, line: line)
    }

    /// `source`'s tensors after `edit`, written as safetensors and imported as `family`.
    func importEdited(_ source: URL, family: ImportFamily, options: ImportOptions,
                      _ edit: (inout [String: Tensor]) throws -> Void) throws -> ImportedModel {
        var tensors = try CheckpointFile.read(source)
        try edit(&tensors)
        let file = try folder().appendingPathComponent("edited.safetensors")
        try SafeTensors.write(tensors, to: file)
        return try withNoGrad { try ImportFamily.importModel(from: file, family: family, options: options) }
    }
}
