import ArgumentParser
import Torch
import VLPServer

/// How `vlp search` and `vlp serve` open an index: the folder, and what may override what it
/// was built with.
struct IndexOpeningOptions: ParsableArguments {
    @Option(help: "The index folder (from vlp index).")
    var index: String

    @Option(help: "Use this checkpoint instead of the one the index names (it must embed the same way).")
    var checkpoint: String?

    @Option(help: "FAISS search-time parameters instead of the index's own: efSearch=N for HNSW, nprobe=N for IVF.")
    var searchParams: String?

    @Option(help: "cpu, cuda or cuda:N: where the model embeds queries.")
    var device = "cpu"

    func engine() throws -> SearchEngine {
        let device = try Device(parsing: device)
        try device.checkAvailable()
        let engine = try SearchEngine(indexFolder: index, checkpoint: checkpoint, device: device)
        if let searchParams { try engine.index.setSearchParameters(searchParams) }
        return engine
    }
}
