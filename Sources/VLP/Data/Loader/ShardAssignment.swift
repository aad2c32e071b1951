/// How one epoch's data is split between the ranks of a distributed run and the worker
/// threads of one loader, and the seeded order it is read in.
///
/// Order: the data units (shards, files) are permuted with a generator seeded by
/// (seed, epoch) when shuffling, then read one after another through the shuffle buffer.
///
/// Ranks, two strategies:
/// - `.bySample` (default): every rank reads the same shuffled stream and keeps positions
///   `i` with `i % worldSize == rank`. The ranks' parts are disjoint and cover the data
///   exactly, and their sizes differ by at most one, so every rank takes the same number of
///   steps (up to skips). Each rank reads — but does not decode — the others' records.
/// - `.byUnit`: the permuted units are dealt round-robin, unit `k` to rank `k % worldSize`;
///   each rank reads only its own. Cheaper on I/O for big corpora of many shards, but the
///   ranks' sample counts differ when shards differ in size; needs `units ≥ worldSize`.
///
/// Workers: the rank's stream position `j` goes to worker `j % workers`. Workers never
/// decide anything random on their own: every draw of a sample comes from a generator seeded
/// by (seed, epoch, sample id), and batches are reassembled in stream order, so the batches
/// are the same for any worker count.
public struct ShardAssignment: Equatable, Sendable {
    public enum Strategy: String, Equatable, Sendable, Codable {
        case bySample
        case byUnit
    }

    public var rank: Int
    public var worldSize: Int
    public var strategy: Strategy

    public init(rank: Int = 0, worldSize: Int = 1, strategy: Strategy = .bySample) throws {
        guard worldSize >= 1, rank >= 0, rank < worldSize else {
            throw DatasetError.invalidArgument("shard assignment: rank \(rank) is not in 0..<\(worldSize) (world size)")
        }
        self.init(checkedRank: rank, worldSize: worldSize, strategy: strategy)
    }

    /// Everything on one process (rank 0 of 1), which needs no check.
    public static let singleProcess = ShardAssignment(checkedRank: 0, worldSize: 1, strategy: .bySample)

    private init(checkedRank rank: Int, worldSize: Int, strategy: Strategy) {
        self.rank = rank
        self.worldSize = worldSize
        self.strategy = strategy
    }

    /// The units this rank reads in `epoch`, in reading order.
    public func units(_ units: [String], seed: UInt64, epoch: Int, shuffled: Bool) throws -> [String] {
        var order = units
        if shuffled {
            var generator = ShardAssignment.generator(seed: seed, epoch: epoch, stream: "unit-order")
            order = generator.shuffled(order)
        }
        guard strategy == .byUnit else { return order }
        guard units.count >= worldSize else {
            throw DatasetError.invalidArgument("shard assignment by unit: \(units.count) units for \(worldSize) ranks; use bySample or more shards")
        }
        return order.enumerated().filter { $0.offset % worldSize == rank }.map(\.element)
    }

    /// Whether stream position `index` (counted over the whole read stream) belongs to this rank.
    public func keeps(streamIndex index: Int) -> Bool {
        strategy == .byUnit || index % worldSize == rank
    }

    /// The worker thread that prepares this rank's stream position `localIndex`.
    public static func worker(forLocalIndex localIndex: Int, workers: Int) -> Int {
        localIndex % max(1, workers)
    }

    /// The shuffle buffer's generator for one epoch.
    static func generator(seed: UInt64, epoch: Int, stream: String) -> SplitMix64 {
        SplitMix64(seed: seed, stream: "loader-" + stream, index: epoch)
    }

    /// The generator of one sample's draws in one epoch: keyed by its id, so it does not
    /// depend on which rank, worker or stream position the sample lands on.
    static func sampleGenerator(seed: UInt64, epoch: Int, sampleID: String, purpose: UInt64) -> SplitMix64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325                 // FNV-1a of the id
        for byte in sampleID.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        var mixer = SplitMix64(seed: seed ^ (UInt64(bitPattern: Int64(epoch)) &* 0xD6E8_FEB8_6659_FD93))
        let base = mixer.next() ^ hash
        var generator = SplitMix64(seed: base &+ purpose &* 0x9E37_79B9_7F4A_7C15)
        _ = generator.next()
        return generator
    }
}
