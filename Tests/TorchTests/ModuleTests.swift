import XCTest
@testable import Torch

final class TinyEncoder: Module {
    @Child(key: "embed_tokens") var tokens: Embedding
    var layers: [TransformerEncoderLayer]
    var head: Linear?
    @Buffer(key: "position_ids") var positions: Tensor

    init(vocabulary: Int = 11, width: Int = 8, depth: Int = 2, classes: Int = 3) throws {
        _tokens.wrappedValue = try Embedding(count: vocabulary, dimension: width)
        layers = try (0..<depth).map { _ in try TransformerEncoderLayer(dimension: width, heads: 2, feedForward: 16, dropout: 0) }
        head = try Linear(width, classes)
        _positions.wrappedValue = try Tensor.arange(5)
        super.init()
    }

    func callAsFunction(_ ids: Tensor) throws -> Tensor {
        var h = try tokens(ids)
        for layer in layers { h = try layer(h) }
        return try head!(h.mean(dim: 1))
    }
}

final class ModuleTests: TorchTestCase {
    func testKeysMatchPyTorchNaming() throws {
        let m = try TinyEncoder()
        let names = m.stateDict().map(\.name)
        XCTAssertEqual(names.first, "position_ids")
        XCTAssertTrue(names.contains("embed_tokens.weight"))
        XCTAssertTrue(names.contains("layers.1.self_attn.q_proj.weight"))
        XCTAssertTrue(names.contains("layers.0.self_attn.out_proj.bias"))
        XCTAssertTrue(names.contains("layers.0.norm2.bias"))
        XCTAssertTrue(names.contains("head.weight"))
        XCTAssertFalse(m.namedParameters().map(\.name).contains("position_ids"))
        XCTAssertEqual(Set(names).count, names.count)
        XCTAssertTrue(m.parameters().allSatisfy(\.requiresGrad))
        let bn = try BatchNorm2d(4)
        XCTAssertEqual(bn.stateDict().map(\.name), ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        let seq = Sequential([try Linear(2, 3), Activation(.relu), try Linear(3, 1)])
        XCTAssertEqual(seq.stateDict().map(\.name), ["0.weight", "0.bias", "2.weight", "2.bias"])
    }

    func testParameterCountAndModes() throws {
        let linear = try Linear(4, 3)
        XCTAssertEqual(linear.parameterCount(), 15)
        let m = try TinyEncoder()
        m.eval()
        XCTAssertTrue(m.namedModules().allSatisfy { !$0.module.isTraining })
        m.train()
        XCTAssertTrue(m.layers[1].dropout.isTraining)
        try m.freeze()
        XCTAssertEqual(m.parameterCount(trainableOnly: true), 0)
    }

    func testStrictLoadingReportsEveryProblem() throws {
        let m = try TinyEncoder()
        var state = Dictionary(uniqueKeysWithValues: m.stateDict().map { ($0.name, try! $0.tensor.clone()) })
        state.removeValue(forKey: "head.bias")
        state["extra.weight"] = try Tensor.ones([1])
        state["head.weight"] = try Tensor.ones([5, 8])
        XCTAssertThrowsError(try m.loadStateDict(state)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("missing keys (1): head.bias"), text)
            XCTAssertTrue(text.contains("unexpected keys (1): extra.weight"), text)
            XCTAssertTrue(text.contains("head.weight: model has [3, 8], checkpoint has [5, 8]"), text)
        }
        state["head.weight"] = try Tensor.ones([3, 8])
        let before = try m.head!.weight.clone()
        XCTAssertThrowsError(try m.loadStateDict(state))
        try assertClose(m.head!.weight, before, tolerance: 0, "nothing changes when loading fails")
        let report = try m.loadStateDict(state, strict: false)
        XCTAssertEqual(report.missing, ["head.bias"])
        XCTAssertEqual(report.unexpected, ["extra.weight"])
        XCTAssertEqual(try m.head!.weight.sum().item(), 24)
    }

    func testLayersMatchPyTorchModules() throws {
        let f = Fixtures.layers
        func state(_ prefix: String) -> [String: Tensor] {
            var result: [String: Tensor] = [:]
            for (k, v) in f where k.hasPrefix("\(prefix).state.") { result[String(k.dropFirst(prefix.count + 7))] = v }
            return result
        }
        let mha = try MultiHeadAttention(dimension: 16, heads: 4)
        try mha.loadStateDict(state("mha"))
        mha.eval()
        let (out, weights) = try mha(query: f["mha.in0"]!, key: f["mha.in1"]!, value: f["mha.in1"]!,
                                     keyPaddingMask: f["mha.key_padding"]!, returnWeights: true)
        try assertClose(out, f["mha.out"]!, tolerance: 1e-5, "MultiHeadAttention")
        try assertClose(weights!, f["mha.weights"]!, tolerance: 1e-5, "MultiHeadAttention weights")

        for (name, normFirst) in [("encoder_prenorm", true), ("encoder_postnorm", false)] {
            let layer = try TransformerEncoderLayer(dimension: 16, heads: 4, feedForward: 32, dropout: 0, activation: .gelu, normFirst: normFirst)
            try layer.loadStateDict(state(name))
            layer.eval()
            let y = try layer(f["\(name).in0"]!, keyPaddingMask: f["\(name).key_padding"]!)
            try assertClose(y, f["\(name).out"]!, tolerance: 1e-5, name)
        }

        let bn = try BatchNorm2d(3)
        try bn.loadStateDict(state("batchnorm"))
        bn.eval()
        try assertClose(try bn(f["batchnorm.in0"]!), f["batchnorm.out"]!, tolerance: 1e-5, "BatchNorm2d")
    }

    func testBatchNormTrainingUpdatesStatisticsAndCounter() throws {
        let bn = try BatchNorm2d(2)
        let x = try Tensor.randn([4, 2, 3, 3]) * 3.0 + 1.0
        let y = try bn(x)
        XCTAssertEqual(try bn.batchesTracked.itemInt(), 1)
        XCTAssertEqual(try y.mean().item(), 0, accuracy: 1e-5)
        let batchMean = try x.mean(dims: [0, 2, 3]).toArray(Float.self)
        for (running, b) in zip(try bn.runningMean.toArray(Float.self), batchMean) { XCTAssertEqual(running, 0.1 * b, accuracy: 1e-5) }
        let counter = try Tensor([Int64(3)], shape: [])
        try counter.add_(try Tensor([Int64(2)], shape: []))
        XCTAssertEqual(try counter.itemInt(), 5)
    }
}
