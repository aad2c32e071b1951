import Foundation
import Torch

/// The released-model families `vlp import` reads. Each names the checkpoint layout it expects
/// and converts one into a swift-vlp model bundle; a family is told by `--from`, or detected from
/// the checkpoint's keys where that is unambiguous (`detect`).
public enum ImportFamily: String, CaseIterable, Codable, Sendable {
    /// Chinese-CLIP (`cn_clip`): ViT image tower + Chinese BERT text tower (`ChineseCLIPImport`).
    case chineseCLIP = "cn-clip"
    /// OpenCLIP / OpenAI CLIP (`open_clip`): ViT image tower + CLIP text transformer (`OpenCLIPImport`).
    case openCLIP = "open-clip"
    /// A Hugging Face `CLIPModel` directory (`HuggingFaceCLIPImport`).
    case huggingFaceCLIP = "hf-clip"
    /// A Hugging Face `ChineseCLIPModel` directory (`HuggingFaceChineseCLIPImport`).
    case huggingFaceChineseCLIP = "hf-chinese-clip"
    /// R2D2's released checkpoints: dual encoder + two cross encoders (`R2D2Import`).
    case r2d2

    /// "cn-clip, open-clip, hf-clip, hf-chinese-clip, r2d2", for error messages.
    public static var allowedNames: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// The family whose layout `keys` (as `CheckpointFile.read` flattens them) are in, when exactly
    /// one family's marker keys are there.
    public static func detect(_ keys: some Collection<String>) -> ImportFamily? {
        let matches = allCases.filter { $0.recognizes(keys) }
        return matches.count == 1 ? matches[0] : nil
    }

    /// Whether `keys` carry this family's marker keys.
    func recognizes(_ keys: some Collection<String>) -> Bool {
        switch self {
        case .chineseCLIP:
            let names = Set(keys.map(ChineseCLIPImport.stateDictKey))
            return ChineseCLIPImport.markerKeys.isSubset(of: names)
        case .openCLIP:
            let names = Set(keys.map { WrappedStateDict.stateDictKey($0) })
            return OpenCLIPImport.markerKeys.isSubset(of: names)
        case .huggingFaceCLIP:
            return HuggingFaceCLIPImport.markerKeys.isSubset(of: Set(keys))
        case .huggingFaceChineseCLIP:
            return HuggingFaceChineseCLIPImport.markerKeys.isSubset(of: Set(keys))
        case .r2d2:
            return R2D2Import.markerKeys.isSubset(of: Set(keys.map(R2D2Import.stateDictKey)))
        }
    }

    /// Converts the checkpoint's tensors (`source` names it in errors) into a model bundle's contents.
    public func convert(_ tensors: [String: Tensor], source: String, options: ImportOptions) throws -> ImportedModel {
        switch self {
        case .chineseCLIP: return try ChineseCLIPImport.convert(tensors, source: source, options: options)
        case .openCLIP: return try OpenCLIPImport.convert(tensors, source: source, options: options)
        case .r2d2: return try R2D2Import.convert(tensors, source: source, options: options)
        case .huggingFaceCLIP, .huggingFaceChineseCLIP:
            throw ModelError.invalidCheckpoint(source: source, reason: "a Hugging Face \(modelName)'s weights: import its directory (config.json, tokenizer and preprocessor files beside the weights)")
        }
    }

    /// Whether this family is read from a Hugging Face model directory rather than a file.
    var isFolderFamily: Bool { self == .huggingFaceCLIP || self == .huggingFaceChineseCLIP }

    /// transformers' class name of a folder family's model.
    var modelName: String {
        switch self {
        case .huggingFaceChineseCLIP: return "ChineseCLIPModel"
        default: return "CLIPModel"
        }
    }

    /// Reads `file` (PyTorch `.pt`/`.pth`/`.bin`/`.ckpt` through the restricted unpickler, a
    /// TorchScript archive such as OpenAI's released CLIPs through libtorch's `torch::jit::load`,
    /// or `.safetensors`) and converts it as `family`, or as the family detected from its keys. A
    /// folder is a Hugging Face model directory. An OpenCLIP-layout TorchScript archive is taken to
    /// be OpenAI's, with QuickGELU, unless the options state an activation or a configuration.
    public static func importModel(from file: URL, family: ImportFamily?, options: ImportOptions) throws -> ImportedModel {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: file.path, isDirectory: &isFolder), isFolder.boolValue {
            if let family, !family.isFolderFamily {
                throw ModelError.invalidCheckpoint(source: file.path, reason: "a folder: only Hugging Face model directories (\(ImportFamily.huggingFaceCLIP.rawValue), \(ImportFamily.huggingFaceChineseCLIP.rawValue)) are imported from folders; \(family.rawValue) reads a checkpoint file")
            }
            let found = try HuggingFaceCLIPImport.directoryFamily(file)
            if let family, family != found {
                throw ModelError.invalidCheckpoint(source: file.path, reason: "--from \(family.rawValue), but its config.json describes a \(found.modelName) (\(found.rawValue))")
            }
            return found == .huggingFaceChineseCLIP ? try HuggingFaceChineseCLIPImport.importDirectory(file, options: options)
                                                    : try HuggingFaceCLIPImport.importDirectory(file, options: options)
        }
        let isTorchScript = try FileManager.default.fileExists(atPath: file.path) && TorchScriptArchive.isArchive(file)
        let tensors = try isTorchScript ? TorchScriptArchive.stateDict(file) : CheckpointFile.read(file)
        guard let family = family ?? detect(tensors.keys) else {
            throw ModelError.invalidCheckpoint(source: file.path, reason: "cannot tell which family this checkpoint is from (its keys match none, or more than one, of: \(allowedNames)); name it with --from")
        }
        // The TorchScript CLIPs in circulation are OpenAI's releases, trained with QuickGELU.
        let assumed = isTorchScript && family == .openCLIP ? options.assuming(activation: .quickGELU) : options
        return try family.convert(tensors, source: file.path, options: assumed)
    }
}
