import Foundation
import XCTest
@testable import Torch

final class MemoryTests: TorchTestCase {
    /// Resident set size in bytes, from /proc/self/statm.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    func testCreatingManyTensorsKeepsMemoryFlat() throws {
        func churn(_ n: Int) throws {
            for i in 0..<n {
                let t = try Tensor.full([64], Double(i))
                _ = try t * 2 + 1
            }
        }
        try churn(10_000)  // warm up allocator pools
        let before = Self.residentBytes()
        try churn(100_000)
        let after = Self.residentBytes()
        // 100,000 × 3 tensors of 256 bytes would be ≥ 77 MB if leaked.
        XCTAssertLessThan(after - before, 16 << 20, "RSS grew from \(before) to \(after)")
    }
}
