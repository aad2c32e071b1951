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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let json = try? JSONSerialization.jsonObject(with: output) as? [String: Any] else {
            throw Failure("the Python peer \(script) failed (status \(process.terminationStatus)); it needs \(python) with \(requirement) (`make bench` installs it); see its message above")
        }
        return json
    }

    /// The middle value (upper median for an even count).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }
}
