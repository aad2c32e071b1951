import Foundation

/// The summary table `vlp demo` prints.
public enum DemoTable {
    public static func render(_ summary: DemoSummary) -> String {
        func f(_ v: Double) -> String { String(format: "%6.1f", v) }
        var lines = ["", "model   R@M (rank)  R@M (2-stage)  i→t R@1  t→i R@1  match AUC  zero-shot top-1  compositional  train s",
                     String(repeating: "-", count: 104)]
        for key in ["r2d2", "prd2"] {
            guard let r = summary.models[key] else { continue }
            let twoStage = key == "r2d2" ? f(r.retrievalReranked.rmean) : "     -"
            lines.append("\(key.uppercased().padding(toLength: 6, withPad: " ", startingAt: 0))  \(f(r.retrieval.rmean))      \(twoStage)         \(f(r.retrieval.i2t.r1))   \(f(r.retrieval.t2i.r1))    \(f(r.matchingAUC))     \(f(r.zeroshotTop1))           \(f(r.compositional["overall"] ?? .nan))         \(String(format: "%5.0f", r.trainingSeconds))")
        }
        lines.append(String(format: "\nwhole demo: %.0f s, peak resident memory %.0f MiB (%@)", summary.seconds, summary.peakResidentMiB,
                            summary.quick ? "--quick" : "default budget"))
        return lines.joined(separator: "\n")
    }
}
