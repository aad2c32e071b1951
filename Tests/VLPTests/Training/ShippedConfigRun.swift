import Foundation
import XCTest

/// A config from `configs/`, cut to a few steps and trained through `vlp pretrain`, for the tests
/// that show a shipped recipe trains from the command line.
struct ShippedConfigRun {
    let yaml: String
    let root: URL

    /// `configs/NAME` with each `old` replaced by `new` (each must occur: the test fails when the
    /// shipped file changes under it).
    init(_ name: String, replacing replacements: [(String, String)], in root: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../configs/\(name)").standardized
        var yaml = try String(contentsOf: shipped, encoding: .utf8)
        for (old, new) in replacements {
            XCTAssertTrue(yaml.contains(old), "the shipped config has \(old)", file: file, line: line)
            yaml = yaml.replacingOccurrences(of: old, with: new)
        }
        self.yaml = yaml
        self.root = root
    }

    /// Trains it; the metrics rows that carry `term`.
    func train(logging term: String, file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        let config = root.appendingPathComponent("config.yaml")
        try yaml.write(to: config, atomically: true, encoding: .utf8)
        let out = root.appendingPathComponent("out").path
        let run = try runVLP(["pretrain", "--config", config.path, "--output", out])
        XCTAssertEqual(run.status, 0, run.errors, file: file, line: line)
        let lines = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        return try lines.compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.filter { $0[term] != nil }
    }

    /// Runs it without its data `rewrites:` line; the command's standard error (it must fail).
    func errorsWithoutRewrites(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        let withoutRewrites = lines.filter { !$0.hasPrefix("  rewrites:") }
        XCTAssertEqual(withoutRewrites.count, lines.count - 1, "one rewrites: line", file: file, line: line)
        let bare = root.appendingPathComponent("bare.yaml")
        try withoutRewrites.joined(separator: "\n").write(to: bare, atomically: true, encoding: .utf8)
        let refused = try runVLP(["pretrain", "--config", bare.path, "--output", root.appendingPathComponent("bare").path])
        XCTAssertNotEqual(refused.status, 0, file: file, line: line)
        return refused.errors
    }
}
