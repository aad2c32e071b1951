import Foundation
import Torch
import XCTest
@testable import VLP

/// What each architecture says it can do, and the configuration boundary (architecture and
/// vision kind decoded once, with errors naming the allowed values).
final class ModelCapabilitiesTests: TorchTestCase {
    func testEachArchitectureReportsItsCapabilities() throws {
        let r2d2 = try PretrainingModel(TinyModels.configuration(.r2d2))
        let r2d2Module = try XCTUnwrap(r2d2.module as? R2D2)
        XCTAssertTrue(r2d2.towers === r2d2Module.towers)
        XCTAssertTrue(r2d2.pairScorer === r2d2Module)
        XCTAssertTrue(r2d2.mlmHead === r2d2Module.mlmHead)
        XCTAssertNil(r2d2.jointEncoder)
        XCTAssertTrue(r2d2.hasMatchHead)
        XCTAssertEqual(r2d2.supportedObjectives, [.gcpr, .fgr, .mlm, .tgd, .fgd, .cmcl, .match])

        let dual = try PretrainingModel(TinyModels.configuration(.dualEncoder))
        XCTAssertTrue(dual.towers === dual.module)
        XCTAssertNil(dual.pairScorer)
        XCTAssertNil(dual.jointEncoder)
        XCTAssertNil(dual.mlmHead)
        XCTAssertFalse(dual.hasMatchHead)
        XCTAssertEqual(dual.supportedObjectives, [.gcpr, .tgd, .fgd, .cmcl])

        let single = try PretrainingModel(TinyModels.configuration(.singleStream))
        XCTAssertNil(single.towers)
        XCTAssertNil(single.pairScorer)
        XCTAssertTrue(single.jointEncoder === single.module)
        XCTAssertTrue(single.mlmHead === single.jointEncoder?.mlmHead)
        XCTAssertTrue(single.hasMatchHead)
        XCTAssertFalse(single.supportedObjectives.contains(.gcpr))
    }

    /// A checkpoint's config is checked against a recipe before any model exists.
    func testSupportIsKnownFromTheConfiguration() throws {
        XCTAssertThrowsError(try PretrainingModel.checkSupport(configuration: TinyModels.configuration(.dualEncoder), recipe: .r2d2)) { error in
            XCTAssertTrue("\(error)".contains("fgr") && "\(error)".contains("dual_encoder"), "\(error)")
        }
        XCTAssertNoThrow(try PretrainingModel.checkSupport(configuration: TinyModels.configuration(.r2d2), recipe: .r2d2))
    }

    func testUnknownArchitectureAndVisionKindNameTheAllowedValues() throws {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(TinyModels.configuration(.dualEncoder))) as! [String: Any]
        object["architecture"] = "dual-encoder"
        XCTAssertThrowsError(try JSONDecoder().decode(VLPModelConfiguration.self, from: JSONSerialization.data(withJSONObject: object))) { error in
            XCTAssertTrue("\(error)".contains("r2d2, dual_encoder, single_stream"), "\(error)")
        }
        object["architecture"] = "dual_encoder"
        var vision = object["vision"] as! [String: Any]
        vision["kind"] = "swin"
        object["vision"] = vision
        XCTAssertThrowsError(try JSONDecoder().decode(VLPModelConfiguration.self, from: JSONSerialization.data(withJSONObject: object))) { error in
            XCTAssertTrue("\(error)".contains("vit, efficientnet, resnet"), "\(error)")
        }
        object["vision"] = ["kind": "efficientnet", "variant": "lite7", "image_size": 64]
        XCTAssertThrowsError(try JSONDecoder().decode(VLPModelConfiguration.self, from: JSONSerialization.data(withJSONObject: object))) { error in
            XCTAssertTrue("\(error)".contains("allowed: lite0"), "\(error)")
        }
    }

    /// A ViT section is written as it always was (no `kind`), so configs and checkpoints round-trip;
    /// `"kind": "vit"` reads the same.
    func testViTSectionsRoundTripWithoutAKind() throws {
        let configuration = try ModelConfigurationRegistry.load("r2d2-tiny")
        let data = try JSONEncoder().encode(configuration)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let vision = try XCTUnwrap(object["vision"] as? [String: Any])
        XCTAssertNil(vision["kind"])
        XCTAssertNil(object["init"])
        XCTAssertEqual(try JSONDecoder().decode(VLPModelConfiguration.self, from: data), configuration)
        var withKind = object
        withKind["vision"] = vision.merging(["kind": "vit"]) { a, _ in a }
        XCTAssertEqual(try JSONDecoder().decode(VLPModelConfiguration.self, from: JSONSerialization.data(withJSONObject: withKind)), configuration)
    }

    func testEfficientNetSectionsRoundTrip() throws {
        let configuration = try ModelConfigurationRegistry.load("align-efficientnet-lite0-minilm")
        let data = try JSONEncoder().encode(configuration)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual((object["vision"] as? [String: Any])?["kind"] as? String, "efficientnet")
        XCTAssertEqual(try JSONDecoder().decode(VLPModelConfiguration.self, from: data), configuration)
    }

    /// The single stream cuts ViT patches; an EfficientNet section is refused by name.
    func testSingleStreamNeedsAViTSection() throws {
        var configuration = TinyModels.configuration(.singleStream)
        configuration.vision = .efficientNet(EfficientNetTowerConfiguration(imageSize: 32))
        XCTAssertThrowsError(try PretrainingModel(configuration)) { error in
            XCTAssertTrue("\(error)".contains("single_stream") && "\(error)".contains("efficientnet"), "\(error)")
        }
    }

    func testInitialWeightsNeedTowers() throws {
        var configuration = TinyModels.configuration(.singleStream)
        configuration.initialWeights = InitialWeights(text: "assets/minilm")
        let model = try PretrainingModel(configuration)
        XCTAssertThrowsError(try model.loadInitialWeights { _ in }) { error in
            XCTAssertTrue("\(error)".contains("towers"), "\(error)")
        }
        // Without an init section there is nothing to load and nothing to fail.
        XCTAssertNoThrow(try PretrainingModel(TinyModels.configuration(.dualEncoder)).loadInitialWeights { _ in })
    }
}
