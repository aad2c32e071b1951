import Foundation
import Torch
import VLP

/// The `align-efficientnet-lite0-minilm` dual encoder's training step (forward, GCPR, backward,
/// AdamW) at several image sizes, with the EfficientNet image tower trained or frozen (LiT: no
/// gradient, batch norm on its running statistics): what the named config's `image_size` was
/// chosen by for CPU training on Fashion-MNIST (28 px upscaled). Random weights, random images,
/// prompt-length texts (16 tokens).
enum ALIGNTowerBenchmark {
    static func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let batch = Int(environment["VLP_BENCH_ALIGN_BATCH"] ?? "") ?? 32
        let steps = Int(environment["VLP_BENCH_ALIGN_STEPS"] ?? "") ?? 3
        let rounds = Int(environment["VLP_BENCH_ALIGN_ROUNDS"] ?? "") ?? 2
        let sizes = (environment["VLP_BENCH_ALIGN_SIZES"] ?? "64,96,128").split(separator: ",").compactMap { Int($0) }
        print("ALIGN EfficientNet-Lite0 + MiniLM training step (forward, GCPR, backward, AdamW), batch \(batch), 16 tokens;")
        print("fastest of \(rounds) rounds × \(steps) steps after a warm-up step, rounds in alternating order (a shared machine's load varies)")
        let cases = sizes.flatMap { size in [false, true].map { (size: size, frozen: $0) } }
        var best: [Int: (step: Double, image: Double)] = [:]
        for round in 0..<rounds {
            for (index, c) in (round % 2 == 0 ? Array(cases.enumerated()) : cases.enumerated().reversed()) {
                let measured = try measure(size: c.size, frozen: c.frozen, batch: batch, steps: steps)
                let previous = best[index] ?? (.infinity, .infinity)
                best[index] = (min(previous.step, measured.step), min(previous.image, measured.image))
            }
        }
        for (index, c) in cases.enumerated() {
            guard let time = best[index] else { continue }
            print(String(format: "  %3d px, image tower %@: %.2f s/step (%.1f pairs/s); image tower alone %.2f s", c.size,
                         c.frozen ? "frozen " : "trained", time.step, Double(batch) / time.step, time.image))
        }
    }

    /// The fastest whole step, and the fastest image-tower pass (forward, plus backward when trained).
    static func measure(size: Int, frozen: Bool, batch: Int, steps: Int) throws -> (step: Double, image: Double) {
        var configuration = try ModelConfigurationRegistry.load("align-efficientnet-lite0-minilm")
        configuration.vision.imageSize = size
        manualSeed(1)
        let model = try PretrainingModel(configuration)
        guard let towers = model.towers else { throw TorchError("align benchmark", "the configuration has no towers") }
        towers.train()
        if frozen {
            try towers.imageEncoder.freeze()
            towers.imageEncoder.eval()
        }
        let loss = GlobalContrastiveLoss()
        let optimizer = AdamW(towers.parameters().filter(\.requiresGrad), learningRate: 1e-4)
        let images = try Tensor.randn([batch, 3, size, size])
        let ids = try Tensor.randint(1000, configuration.text.vocabularySize, [batch, 16])
        let mask = try Tensor.ones([batch, 16], dtype: .int64)
        let imageIDs = try Tensor.arange(batch)
        func seconds(_ body: () throws -> Void) rethrows -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        var step = Double.infinity, image = Double.infinity
        for i in 0..<(steps + 1) {
            let t = try seconds {
                optimizer.zeroGrad()
                let output = try towers(images: images, inputIDs: ids, attentionMask: mask)
                try loss(imageFeatures: output.images.features, textFeatures: output.texts.features, imageIDs: imageIDs,
                         logitScale: output.logitScale).loss.backward()
                try optimizer.step()
            }
            let u = try seconds {
                let pooled = try towers.imageEncoder.encode(images).pooled
                if !frozen { try pooled.sum().backward() }
            }
            if i > 0 { (step, image) = (min(step, t), min(image, u)) }
        }
        return (step, image)
    }
}
