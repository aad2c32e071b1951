import Foundation

/// Where this process sits in a distributed run, read from the launcher's environment:
/// torchrun's (`MASTER_ADDR`, `MASTER_PORT`, `RANK`, `WORLD_SIZE`, `LOCAL_RANK`), else Slurm's
/// (`SLURM_PROCID`, `SLURM_NTASKS`, `SLURM_LOCALID`), else Open MPI's (`OMPI_COMM_WORLD_RANK`,
/// `…_SIZE`, `…_LOCAL_RANK`). Under Slurm and MPI the master address and port still come from
/// `MASTER_ADDR` / `MASTER_PORT` (the README's launch examples set them).
public struct DistributedEnvironment: Equatable, Sendable {
    public var masterAddress: String
    public var masterPort: Int
    public var rank: Int
    public var worldSize: Int
    public var localRank: Int

    public init(masterAddress: String = "127.0.0.1", masterPort: Int = 29500, rank: Int, worldSize: Int, localRank: Int? = nil) {
        self.masterAddress = masterAddress
        self.masterPort = masterPort
        self.rank = rank
        self.worldSize = worldSize
        self.localRank = localRank ?? rank
    }

    /// nil when no launcher variables are set (a single-process run).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DistributedEnvironment? {
        func int(_ name: String) throws -> Int? {
            guard let text = environment[name] else { return nil }
            guard let value = Int(text) else { throw TorchError("distributed environment", "\(name)=\(text) is not an integer") }
            return value
        }
        let launchers: [(rank: String, size: String, local: String)] = [
            ("RANK", "WORLD_SIZE", "LOCAL_RANK"),
            ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"),
            ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"),
        ]
        for names in launchers {
            guard let rank = try int(names.rank) else { continue }
            guard let size = try int(names.size) else {
                throw TorchError("distributed environment", "\(names.rank) is set but \(names.size) is not")
            }
            guard size > 0, rank >= 0, rank < size else {
                throw TorchError("distributed environment", "\(names.rank)=\(rank) is outside 0..<\(names.size)=\(size)")
            }
            return DistributedEnvironment(masterAddress: environment["MASTER_ADDR"] ?? "127.0.0.1",
                                          masterPort: try int("MASTER_PORT") ?? 29500,
                                          rank: rank, worldSize: size, localRank: try int(names.local))
        }
        return nil
    }
}
