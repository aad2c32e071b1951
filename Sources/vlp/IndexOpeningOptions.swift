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

    @OptionGroup var target: DeviceOption

    /// - Parameter batching: how concurrent queries share the model (`vlp serve`'s limits).
    func engine(batching: SearchBatching = SearchBatching(), rerankCacheBytes: Int = SearchEngine.defaultRerankCacheBytes) throws -> SearchEngine {
        let engine = try SearchEngine(indexFolder: index, checkpoint: checkpoint, device: target.device, batching: batching,
                                      rerankCacheBytes: rerankCacheBytes)
        if let searchParams { try engine.index.setSearchParameters(searchParams) }
        return engine
    }
}
