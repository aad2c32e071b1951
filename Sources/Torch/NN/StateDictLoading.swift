/// What `loadStateDict` matched and what it could not.
public struct StateDictLoadReport: Sendable, Equatable {
    public var loaded: [String] = []
    public var missing: [String] = []
    public var unexpected: [String] = []
    public var shapeMismatches: [ShapeMismatch] = []

    public struct ShapeMismatch: Sendable, Equatable, CustomStringConvertible {
        public let key: String
        public let expected: [Int]
        public let found: [Int]
        public var description: String { "\(key): model has \(expected), checkpoint has \(found)" }
    }
}

/// A state dict that does not fit the model; the message lists every problem.
public struct StateDictError: Error, CustomStringConvertible {
    public let report: StateDictLoadReport
    public let source: String

    public var description: String {
        var lines = ["state dict from \(source) does not match the model:"]
        if !report.missing.isEmpty { lines.append("  missing keys (\(report.missing.count)): \(report.missing.joined(separator: ", "))") }
        if !report.unexpected.isEmpty { lines.append("  unexpected keys (\(report.unexpected.count)): \(report.unexpected.joined(separator: ", "))") }
        if !report.shapeMismatches.isEmpty {
            lines.append("  shape mismatches (\(report.shapeMismatches.count)): " + report.shapeMismatches.map(\.description).joined(separator: "; "))
        }
        return lines.joined(separator: "\n")
    }
}

extension Module {
    /// Copies checkpoint tensors into this module's parameters and buffers (converting dtype
    /// and device). Strict by default: any missing or unexpected key is an error, except the
    /// LoRA adapters of an adapted model when the checkpoint has none at all. Shape mismatches
    /// are always an error. Nothing is modified when it throws.
    @discardableResult
    public func loadStateDict(_ tensors: [String: Tensor], strict: Bool = true, source: String = "state dict") throws -> StateDictLoadReport {
        var report = StateDictLoadReport()
        let own = stateDict()
        var pairs: [(Tensor, Tensor)] = []
        for (name, target) in own {
            guard let value = tensors[name] else { report.missing.append(name); continue }
            if value.shape != target.shape {
                report.shapeMismatches.append(.init(key: name, expected: target.shape, found: value.shape))
            } else {
                pairs.append((target, value))
                report.loaded.append(name)
            }
        }
        // A checkpoint without LoRA adapters (a base model) loads into an adapted model: the
        // adapters keep their initial values (B = 0, so the outputs are the base model's). A
        // checkpoint that has adapters must have them all.
        if !tensors.keys.contains(where: Module.isAdapterKey) { report.missing.removeAll(where: Module.isAdapterKey) }
        let known = Set(own.map(\.name))
        report.unexpected = tensors.keys.filter { !known.contains($0) }.sorted()
        if !report.shapeMismatches.isEmpty || (strict && (!report.missing.isEmpty || !report.unexpected.isEmpty)) {
            throw StateDictError(report: report, source: source)
        }
        try withNoGrad {
            for (target, value) in pairs { try target.copy_(value) }
        }
        return report
    }
}
