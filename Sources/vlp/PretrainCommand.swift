import ArgumentParser
import Foundation
import Torch
import VLP

/// `vlp pretrain --config FILE.yaml [--resume]`: runs a pretraining run described in YAML (see
/// `PretrainingRun`): progress lines on stderr, `metrics.jsonl` and checkpoints in the output
/// folder; `--resume` continues from the latest checkpoint there.
struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Pretrain a model from a YAML config (model, recipe, data, stages, optimizer, schedule).")

    @Option(help: "The YAML config (see configs/).")
    var config: String

    @Flag(help: "Continue from the latest checkpoint in the output folder.")
    var resume = false

    @Option(help: "Output folder (overrides the config's output:).")
    var output: String?

    @Option(help: "cpu, cuda or cuda:N (overrides the config's device:). Under a launcher, cuda means cuda:LOCAL_RANK and the ranks reduce with NCCL.",
            transform: Device.init(parsing:))
    var device: Device?

    func run() throws {
        var run = try PretrainingRun.load(contentsOf: URL(fileURLWithPath: config))
        if let output { run.output = output }
        if let device { run.device = device }
        let trainer = try Trainer(run)
        if let data = run.evaluation.data {
            let set = try EvaluationSet.load(data, for: trainer.configuration)
            trainer.evaluate = { model, _ in try RetrievalEvaluation.run(model, on: set, rerankTopK: 0).flatMetrics() }
            // R2D2: λ of the two-stage score cos + λ·p is chosen on this set once training is done.
            trainer.chooseRerankWeight = { model in
                let (weight, evaluation) = try RetrievalEvaluation.chooseRerankWeight(model, on: set)
                let line = RetrievalEvaluation.describeChoice(weight, evaluation, on: set) + "; stored in the final checkpoint\n"
                FileHandle.standardError.write(Data(line.utf8))
                return weight
            }
        }
        let parameters = trainer.model.module.parameterCount(trainableOnly: true)
        let locked = run.lock.isEmpty ? "" : ", locked: \(run.lock.sorted().map(\.rawValue).joined(separator: ", "))"
        FileHandle.standardError.write(Data("pretrain: \(run.model.name) (\(trainer.configuration.architecture.rawValue), \(parameters) trainable parameters\(locked)), \(run.stages.map { "\($0.name): \($0.recipe.name) × \($0.steps) steps" }.joined(separator: ", ")), batch \(run.batchSize)×\(run.gradientAccumulation) → \(run.outputFolder)\n".utf8))
        let summary = try trainer.run(resume: resume)
        let loss = summary.lastLoss["loss"].map { String(format: "%.4f", $0) } ?? "-"
        print("pretrain: \(summary.steps) steps in \(String(format: "%.1f", summary.seconds)) s, last loss \(loss), \(summary.skippedSteps) skipped steps; checkpoint \(summary.checkpoint?.path ?? "none")")
        if !summary.dataSkips.isEmpty { print("data: \(summary.dataSkips)") }
    }
}
