import ArgumentParser
import Foundation
import VLP

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

    func run() throws {
        var options = DemoRun.Options(output: URL(fileURLWithPath: out), quick: quick)
        options.seed = seed
        let demo = DemoRun(options: options)
        let summary = try demo.run()
        print(DemoTable.render(summary))
        print("report: \(URL(fileURLWithPath: out).appendingPathComponent("report.html").path)")
        print("summary: \(URL(fileURLWithPath: out).appendingPathComponent("summary.json").path)")
    }
}
