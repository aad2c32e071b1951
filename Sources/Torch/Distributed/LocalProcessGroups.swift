import Foundation

/// Runs `worldSize` ranks as threads of this process, each with its own process group on a
/// loopback port: a way to test distributed code without launching processes.
public enum LocalProcessGroups {
    final class Results<R>: @unchecked Sendable {
        var values: [Int: Result<R, Error>] = [:]
        let lock = NSLock()
    }

    /// `body(rank, group)` on every rank; results in rank order; the first rank's error is rethrown.
    public static func run<R>(worldSize: Int, port: Int = Int.random(in: 20_000..<60_000), timeout: Duration = .seconds(30),
                              _ body: @escaping @Sendable (Int, ProcessGroup) throws -> R) throws -> [R] {
        let results = Results<R>()
        let group = DispatchGroup()
        for rank in 0..<worldSize {
            DispatchQueue.global().async(group: group) {
                let result = Result { () throws -> R in
                    let pg = try ProcessGroup(DistributedEnvironment(masterPort: port, rank: rank, worldSize: worldSize), timeout: timeout)
                    return try body(rank, pg)
                }
                results.lock.lock()
                results.values[rank] = result
                results.lock.unlock()
            }
        }
        group.wait()
        return try (0..<worldSize).map { try results.values[$0]!.get() }
    }
}
