import ArgumentParser
import Torch

/// `--device cpu|cuda|cuda:N`, shared by every command that runs a model; parsed once, and
/// checked against the GPUs libtorch sees before any work starts.
struct DeviceOption: ParsableArguments {
    @Option(help: "cpu, cuda or cuda:N: where the model runs (under `vlp launch`, cuda means cuda:LOCAL_RANK).",
            transform: { try Device(parsing: $0) })
    var device: Device = .cpu

    func validate() throws {
        do { try device.checkAvailable() } catch { throw ValidationError("--device: \(error)") }
    }
}
