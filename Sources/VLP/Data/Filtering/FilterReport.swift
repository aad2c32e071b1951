/// What `DataFilter` did to one part: samples and texts read and kept, the drops counted per
/// rule with the first few examples of each, the texts cleaning changed, and the bad records the
/// reader skipped. Encodes to JSON with the rules' snake-case names as keys.
public struct FilterReport: Codable, Equatable, Sendable {
    /// Drops under one rule, with the first examples (`id: "text" (why)` or `id (why)`).
    public struct Tally: Codable, Equatable, Sendable {
        public var count = 0
        public var examples: [String] = []
    }

    public var part: String
    public var samplesRead = 0
    public var samplesKept = 0
    /// All texts, hard negatives included.
    public var textsRead = 0
    public var textsKept = 0
    /// Kept positive texts that cleaning changed (the cleaned text is what was written).
    public var textsCleaned = 0
    /// Sample drops by `FilterRule.rawValue` (image rules and `no_text_left`).
    public var samplesDropped: [String: Tally] = [:]
    /// Text drops by `FilterRule.rawValue`, in samples that were not themselves dropped by an image rule.
    public var textsDropped: [String: Tally] = [:]
    /// Records the reader could not read at all (bad lines, missing files); not counted as read.
    public var skipped = 0
    public var skipExamples: [String] = []
    /// Distinct positive texts the frequency rule counted, and how many were over its limit.
    public var distinctTexts: Int?
    public var textsOverFrequencyLimit: Int?

    /// How many examples each rule keeps.
    public static let examplesPerRule = 3

    public init(part: String) {
        self.part = part
    }

    /// Samples dropped by `rule` (0 for a text rule).
    public func samplesDropped(by rule: FilterRule) -> Int { samplesDropped[rule.rawValue]?.count ?? 0 }
    /// Texts dropped by `rule` (0 for a sample rule).
    public func textsDropped(by rule: FilterRule) -> Int { textsDropped[rule.rawValue]?.count ?? 0 }

    mutating func dropSample(_ rule: FilterRule, example: @autoclosure () -> String) {
        Self.add(&samplesDropped, rule, example)
    }

    mutating func dropText(_ rule: FilterRule, example: @autoclosure () -> String) {
        Self.add(&textsDropped, rule, example)
    }

    private static func add(_ tallies: inout [String: Tally], _ rule: FilterRule, _ example: () -> String) {
        var tally = tallies[rule.rawValue] ?? Tally()
        tally.count += 1
        if tally.examples.count < examplesPerRule { tally.examples.append(example()) }
        tallies[rule.rawValue] = tally
    }

    /// A few lines for people: totals, then each rule that dropped something, in rule order.
    public var summary: String {
        var lines = ["\(part): read \(samplesRead) samples (\(textsRead) texts), kept \(samplesKept) samples (\(textsKept) texts); "
            + "\(textsCleaned) texts cleaned; \(skipped) bad records skipped"]
        func section(_ title: String, _ tallies: [String: Tally]) {
            let rules = FilterRule.allCases.filter { tallies[$0.rawValue] != nil }
            guard !rules.isEmpty else { return }
            lines.append("  \(title):")
            let width = rules.map(\.rawValue.count).max() ?? 0
            for rule in rules {
                let tally = tallies[rule.rawValue]!
                let name = rule.rawValue + String(repeating: " ", count: width - rule.rawValue.count)
                lines.append("    \(name)  \(tally.count)")
                lines += tally.examples.map { "      e.g. " + $0 }
            }
        }
        section("samples dropped", samplesDropped)
        section("texts dropped", textsDropped)
        if let distinctTexts, let textsOverFrequencyLimit {
            lines.append("  frequency pass: \(distinctTexts) distinct texts, \(textsOverFrequencyLimit) carried by too many images")
        }
        if !skipExamples.isEmpty {
            lines.append("  first skipped records:")
            lines += skipExamples.map { "    " + $0 }
        }
        return lines.joined(separator: "\n")
    }
}
