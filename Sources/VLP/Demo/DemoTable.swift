import Foundation

/// The summary table `vlp demo` prints.
public enum DemoTable {
    /// Matching AUC and compositional accuracy by both scorers: the towers' cosine (every model)
    /// and the match heads (R2D2's cross encoders; "-" for PRD2).
    public static func render(_ summary: DemoSummary) -> String {
        func f(_ v: Double?) -> String { v.map { String(format: "%6.1f", $0) } ?? "     -" }
        var lines = ["", "model   R@M (rank)  R@M (2-stage)  i→t R@1  t→i R@1  AUC cos  AUC heads  zero-shot top-1  comp. cos  comp. heads  train s",
                     String(repeating: "-", count: 120)]
        for key in ["r2d2", "prd2"] {
            guard let r = summary.models[key] else { continue }
            let twoStage = key == "r2d2" ? f(r.retrievalReranked.rmean) : f(nil)
            lines.append("\(key.uppercased().padding(toLength: 6, withPad: " ", startingAt: 0))  \(f(r.retrieval.rmean))      \(twoStage)         \(f(r.retrieval.i2t.r1))   \(f(r.retrieval.t2i.r1))   \(f(r.matchingAUC))     \(f(r.matchingAUCHeads))           \(f(r.zeroshotTop1))     \(f(r.compositional["overall"]))       \(f(r.compositionalHeads?["overall"]))    \(String(format: "%5.0f", r.trainingSeconds))")
        }
        if let w = summary.models["r2d2"]?.rerankWeight {
            lines.append("R2D2's two-stage score: " + RerankScore.weighted(w).formula + ", λ chosen on the validation split")
        }
        lines.append(String(format: "\nwhole demo: %.0f s, peak resident memory %.0f MiB (%@)", summary.seconds, summary.peakResidentMiB,
                            summary.quick ? "--quick" : "default budget"))
        return lines.joined(separator: "\n")
    }
}
