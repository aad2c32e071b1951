import Foundation
import VLPFuzzTargets

// Built normally, `vlp-fuzz TARGET FILE...` replays files through one target (a crash is a
// finding; each file that returns is printed). Built with `-sanitize=fuzzer,address -D
// VLP_FUZZING` (Fuzz/fuzz.sh), it is a libFuzzer binary: the target is named by the
// VLP_FUZZ_TARGET environment variable and the arguments are libFuzzer's.

#if VLP_FUZZING
/// The target chosen once per process from VLP_FUZZ_TARGET.
let fuzzTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["VLP_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("vlp-fuzz: set VLP_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")) (got \"\(name)\")\n".utf8))
        exit(2)
    }
    return target
}()

// libFuzzer's own `main` drives this (`swift build --sanitize=fuzzer` links no Swift entry point).
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    fuzzTarget.run(bytes.map { Data(bytes: $0, count: count) } ?? Data())
    return 0
}

#else
@main
struct ReplayMain {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count > 1 else {
            print("usage: vlp-fuzz TARGET FILE...   (TARGET: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))")
            exit(2)
        }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("vlp-fuzz: cannot read \(path)")
                exit(1)
            }
            target.run(data)
            print("ok \(path) (\(data.count) bytes)")
        }
    }
}
#endif
