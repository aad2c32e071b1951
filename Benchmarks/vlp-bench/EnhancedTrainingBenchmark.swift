import Foundation
import Torch
import VLP

/// R2D2's Enhanced Training, measured: forward FLOPs (matrix products, `FlopCounter`) and
/// training steps/s of an R2D2 step with ET (MLM inside the FGR forward of the positive pairs)
/// and without (a separate MLM cross-encoder forward), on the same batches. The article reports
/// 154.0 vs 168.8 GFLOPs and 1.4 vs 1.1 it/s for its model; here the r2d2-tiny configuration
/// (and r2d2-vit-b16-roberta-base's FLOPs at batch 2, forward only).
enum EnhancedTrainingBenchmark {
    static func run() throws {
        let batch = Int(ProcessInfo.processInfo.environment["VLP_BENCH_ET_BATCH"] ?? "") ?? 32
        let steps = Int(ProcessInfo.processInfo.environment["VLP_BENCH_ET_STEPS"] ?? "") ?? 15
        print("Enhanced Training (R2D2 recipe with and without ET), r2d2-tiny, batch \(batch), context 32")
        var results: [Bool: (flops: Double, stepsPerSecond: Double)] = [:]
        for et in [true, false] {
            let recipe = et ? PretrainingRecipe.r2d2 : .r2d2WithoutEnhancedTraining
            let configuration = try ModelConfigurationRegistry.load("r2d2-tiny")
            manualSeed(1)
            let model = try PretrainingModel(configuration)
            let loss = try PretrainingLoss(recipe: recipe, model: model)
            let optimizer = AdamW(model.module.parameters(), learningRate: 1e-4)
            let inputs = try batchInputs(configuration, batch: batch)
            let (_, flops) = try FlopCounter.count { try loss(model, inputs) }
            var times: [Double] = []
            for step in 0..<(steps + 3) {
                let start = DispatchTime.now().uptimeNanoseconds
                optimizer.zeroGrad()
                try loss(model, inputs).total.backward()
                try optimizer.step()
                try loss.afterOptimizerStep(model)
                if step >= 3 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
            }
            let median = times.sorted()[times.count / 2]
            results[et] = (flops, 1 / median)
            print(String(format: "  %@: %.2f GFLOPs forward per step, %.2f steps/s (median of %d)", et ? "with ET   " : "without ET",
                         flops / 1e9, 1 / median, steps))
        }
        let with = results[true]!, without = results[false]!
        print(String(format: "  ET saves %.1f%% of the forward FLOPs and runs %.2f× the steps/s (article: 154.0 vs 168.8 GFLOPs, −8.8%%; 1.4 vs 1.1 it/s, 1.27×)",
                     (1 - with.flops / without.flops) * 100, with.stepsPerSecond / without.stepsPerSecond))
        let base = try ModelConfigurationRegistry.load("r2d2-vit-b16-roberta-base")
        for et in [true, false] {
            let model = try PretrainingModel(base)
            let loss = try PretrainingLoss(recipe: et ? .r2d2 : .r2d2WithoutEnhancedTraining, model: model)
            let inputs = try batchInputs(base, batch: 2)
            let (_, flops) = try withNoGrad { try FlopCounter.count { try loss(model, inputs) } }
            print(String(format: "  r2d2-vit-b16-roberta-base, batch 2, %@: %.1f GFLOPs forward", et ? "with ET   " : "without ET", flops / 1e9))
        }
    }

    /// Random images and token ids with 15% of positions masked.
    static func batchInputs(_ c: VLPModelConfiguration, batch: Int) throws -> PretrainingInputs {
        let length = 32, vocabulary = c.text.vocabularySize
        let ids = try Tensor.randint(1000, vocabulary, [batch, length])
        let chosen = try Tensor.rand([batch, length]) .< 0.15
        let masked = try ids.maskedFill(chosen, 103)
        let labels = try ids.maskedFill(chosen .== 0, -100)
        return try PretrainingInputs(images: try Tensor.randn([batch, 3, c.vision.imageSize, c.vision.imageSize]),
                                 imageIDs: try Tensor.arange(batch), inputIDs: ids, attentionMask: try Tensor.ones([batch, length], dtype: .int64),
                                 maskedInputIDs: masked, mlmLabels: labels)
    }
}
