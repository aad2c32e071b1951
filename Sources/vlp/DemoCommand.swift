import ArgumentParser
import Foundation
import VLP
import VLPServer

/// `vlp demo`: the built-in bilingual corpus → pretrain R2D2-tiny and PRD2 → evaluate → report.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Built-in bilingual corpus → pretrain R2D2-tiny and PRD2 → evaluate → report.html, summary.json.")

    @Flag(help: "Smaller budget (under 2 minutes on a 2-core CPU).")
    var quick = false

    @Option(help: "Output folder.")
    var out = "./demo-output"

    @Option(help: "Seed of the corpus, the initialisation and the data order (the README's numbers are seed 7).")
    var seed: UInt64 = 7

    @Flag(help: "Mask single characters instead of whole jieba words (data key whole_word_masking: false): the ablation of whole-word masking.")
    var characterMasking = false

    @Option(help: "Training steps of each model (default: 1500, or 150 with --quick).")
    var steps: Int?

    func validate() throws {
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1, not \(steps)") }
    }

    func run() throws {
        var options = DemoRun.Options(output: URL(fileURLWithPath: out), quick: quick)
        options.stepsOverride = steps
        options.seed = seed
        options.wholeWordMasking = !characterMasking
        let demo = DemoRun(options: options)
        let summary = try demo.run()
        print(DemoTable.render(summary))
        print("report: \(URL(fileURLWithPath: out).appendingPathComponent("report.html").path)")
        print("summary: \(URL(fileURLWithPath: out).appendingPathComponent("summary.json").path)")
        try indexTestImages(options)
    }

    /// The retrieval test images in a search index with the trained R2D2, so the demo ends with
    /// something to search: `vlp serve --index OUT/search.index`.
    func indexTestImages(_ options: DemoRun.Options) throws {
        let run = options.output.appendingPathComponent("r2d2").path
        let checkpoint = try TrainingCheckpoint.resolve(run).standardizedFileURL.path
        let imageSize = try TrainingCheckpoint.configuration(checkpoint).vision.imageSize
        guard let samples = try TrainingData.scenesSamples(options.evaluationData(.icr), imageSize: imageSize) else { return }
        let builder = SearchIndexBuilder(embedder: try TowerEmbedder(checkpoint: checkpoint), checkpoint: checkpoint)
        let report = try builder.build(from: .samples(samples, name: "scenes icr test"),
                                       into: options.output.appendingPathComponent("search.index").path, overwrite: true)
        print("search: \(report.indexed) test images indexed with R2D2-tiny; try `vlp serve --index \(report.folder)`")
    }
}
