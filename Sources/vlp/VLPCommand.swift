import ArgumentParser
import Torch
import VLP

@main
struct VLPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vlp",
        abstract: "Vision-language pretraining: data, pretraining, evaluation and search.",
        version: VLPVersion.string,
        subcommands: [
            DemoCommand.self,
            DataCommand.self,
            TokenizeCommand.self,
            EmbedCommand.self,
            PretrainCommand.self,
            EvaluateCommand.self,
            FinetuneCommand.self,
            LaunchCommand.self,
            IndexCommand.self,
            SearchCommand.self,
            ServeCommand.self,
            ImportCommand.self,
            ExportCommand.self,
            // Subcommands register here, one line each.
        ]
    )

    /// libtorch's thread pools and denormal mode, and malloc's thresholds, are set here, once,
    /// before any subcommand makes a tensor (see `TorchThreads`, `HeapSettings`), then the
    /// arguments are parsed and run as usual.
    static func main() {
        TorchThreads.configureDefaults()
        HeapSettings.configureDefaults()
        main(nil)
    }
}
