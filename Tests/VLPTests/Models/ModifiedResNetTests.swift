import Foundation
import Torch
import XCTest
@testable import VLP

/// CLIP's ModifiedResNet tower on its own: gradients, the depth order fine-tuning reads, the
/// configuration's JSON and checks. Its outputs against cn_clip's and open_clip's are in
/// `ResNetImportTests`.
final class ModifiedResNetTests: TorchTestCase {
    static let configuration = ModifiedResNetConfiguration(imageSize: 64, layers: [2, 1, 1, 1], width: 4, heads: 2, outputDim: 6)

    func testAveragePoolMatchesHandComputedWindows() throws {
        let x = try Tensor((0..<25).map(Float.init), shape: [1, 1, 5, 5])
        // 2 × 2 windows, floor mode: the last row and column are dropped.
        XCTAssertEqual(try Functional.averagePool2d(x, kernelSize: 2).floats(), [3, 5, 13, 15])
        XCTAssertEqual(try Functional.averagePool2d(x, kernelSize: 3, stride: 2).floats(), [6, 8, 16, 18])
        let failures = try GradientCheck.check("averagePool2d", { xs in try Functional.averagePool2d(xs[0], kernelSize: 2) },
                                               [Tensor.randn([2, 3, 6, 6], dtype: .float64)])
        XCTAssertEqual(failures, [])
    }

    /// Autograd against central finite differences in float64: a downsampling bottleneck (its
    /// average pools and shortcut) and the attention pool, for their inputs.
    func testGradientsMatchFiniteDifferences() throws {
        manualSeed(5)
        let block = try ResNetBottleneck(inputChannels: 8, planes: 4, stride: 2)
        try block.to(.cpu, dtype: .float64)
        block.eval()  // running statistics: a fixed function of the input
        var failures = try GradientCheck.check("bottleneck", { xs in try block(xs[0]) }, [Tensor.randn([1, 8, 6, 6], dtype: .float64)], samples: 8)
        let pool = try AttentionPool2d(gridSize: 2, width: 8, heads: 2, outputDim: 5)
        try pool.to(.cpu, dtype: .float64)
        failures += try GradientCheck.check("attention pool", { xs in try pool(xs[0]) }, [Tensor.randn([2, 8, 2, 2], dtype: .float64)], samples: 8)
        XCTAssertEqual(failures, [])
    }

    /// Each query attends on its own: the mean token's output equals a pool run on it alone, as
    /// CLIP computes it (query = the mean token only).
    func testTheMeanTokenOutputDoesNotDependOnTheOtherQueries() throws {
        let pool = try AttentionPool2d(gridSize: 2, width: 8, heads: 2, outputDim: 5)
        let map = try Tensor.randn([3, 8, 2, 2])
        try withNoGrad {
            let all = try pool(map)
            XCTAssertEqual(all.shape, [3, 5, 5])
            let tokens = try map.flattened(startDim: 2).transposed(1, 2)
            let keys = try cat([tokens.mean(dim: 1, keepDims: true), tokens], dim: 1) + pool.positionalEmbedding
            let query = try pool.queryProjection(keys.narrowed(dim: 1, start: 0, length: 1)).reshaped([3, 1, 2, 4]).transposed(1, 2)
            let k = try pool.keyProjection(keys).reshaped([3, 5, 2, 4]).transposed(1, 2)
            let v = try pool.valueProjection(keys).reshaped([3, 5, 2, 4]).transposed(1, 2)
            let weights = try (query.matmul(k.transposed(2, 3)) / 2).softmax(dim: -1)
            let alone = try pool.outputProjection(weights.matmul(v).transposed(1, 2).reshaped([3, 8]))
            XCTAssertLessThanOrEqual(try maxAbsDifference(all.select(dim: 1, index: 0), alone), 1e-6)
        }
    }

    func testDepthCountsBlocksThroughTheStagesAndEncodeGivesTheGrid() throws {
        let tower = try ModifiedResNet(Self.configuration)
        XCTAssertEqual(tower.blockCount, 5)
        XCTAssertEqual(tower.depth(ofParameter: "conv1.weight"), 0)
        XCTAssertEqual(tower.depth(ofParameter: "bn3.bias"), 0)
        XCTAssertEqual(tower.depth(ofParameter: "layer1.0.conv1.weight"), 1)
        XCTAssertEqual(tower.depth(ofParameter: "layer1.1.bn2.weight"), 2)
        XCTAssertEqual(tower.depth(ofParameter: "layer2.0.downsample.0.weight"), 3)
        XCTAssertEqual(tower.depth(ofParameter: "layer4.0.conv3.weight"), 5)
        XCTAssertEqual(tower.depth(ofParameter: "attnpool.c_proj.weight"), 6)
        tower.eval()
        let output = try withNoGrad { try tower.encode(Tensor.randn([2, 3, 64, 64]), patchMask: Tensor.zeros([2, 4], dtype: .bool)) }
        XCTAssertEqual(output.pooled.shape, [2, 6])
        XCTAssertEqual(output.states.shape, [2, 5, 6])
        XCTAssertEqual(tower.patchGrid(height: 64, width: 64).rows, 2)
    }

    func testConfigurationRoundTripsAsAKindAndIsChecked() throws {
        let vision = ImageTowerConfiguration.resNet(Self.configuration)
        let data = try JSONEncoder().encode(vision)
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains("\"kind\":\"resnet\""))
        XCTAssertEqual(try JSONDecoder().decode(ImageTowerConfiguration.self, from: data), vision)
        XCTAssertEqual(vision.width, 6)
        for (bad, message) in [
            (ModifiedResNetConfiguration(imageSize: 48, layers: [1, 1, 1, 1], width: 4, heads: 2, outputDim: 6), "multiple of 32"),
            (ModifiedResNetConfiguration(imageSize: 64, layers: [1, 1, 1], width: 4, heads: 2, outputDim: 6), "four positive block counts"),
            (ModifiedResNetConfiguration(imageSize: 64, layers: [1, 1, 1, 1], width: 4, heads: 3, outputDim: 6), "must divide the attention pool's width 128"),
        ] {
            XCTAssertThrowsError(try bad.validate(source: "test")) { XCTAssertTrue("\($0)".contains(message), "\($0)") }
        }
    }
}
