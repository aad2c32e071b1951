import Foundation

/// The Python side of a benchmark: runs `script` with `arguments` under `$VLP_PEER_PYTHON`
/// (default `defaultPython`) and decodes the one JSON object it prints.
enum PythonPeer {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func run(_ script: String, _ arguments: [String], defaultPython: String = "/usr/bin/python3",
                    environment: [String: String] = [:], requirement: String) throws -> [String: Any] {
        let python = ProcessInfo.processInfo.environment["VLP_PEER_PYTHON"] ?? defaultPython
        let (status, json) = try jsonOutput(of: URL(fileURLWithPath: "/usr/bin/env"), [python, script] + arguments, environment: environment)
        guard let json else {
            throw Failure("the Python peer \(script) failed (status \(status)); it needs \(python) with \(requirement) (`make bench` installs it); see its message above")
        }
        return json
    }

    /// Runs `executable` and reads the one JSON object it prints; nil unless it exits 0 with one
    /// (its stderr stays on ours, where its messages show).
    static func jsonOutput(of executable: URL, _ arguments: [String], environment: [String: String]) throws -> (status: Int32, json: [String: Any]?) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return (process.terminationStatus, nil) }
        return (0, try? JSONSerialization.jsonObject(with: output) as? [String: Any])
    }

    /// The middle value (upper median for an even count).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }
}
