import ArgumentParser
import VLP

/// `--data scenes:SET:SPLIT` (the built-in corpus) as its set and split, checked; nil when `data`
/// names a dataset on disk. Shared by `vlp evaluate` and `vlp finetune`.
func scenesPart(of data: String) throws -> (set: ScenesSet, split: DataSplit)? {
    guard data.hasPrefix("scenes:") else { return nil }
    let parts = data.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard parts.count == 3 else { throw ValidationError("--data scenes:SET:SPLIT, e.g. scenes:icr:test") }
    guard let set = ScenesSet(rawValue: parts[1]) else {
        throw ValidationError("--data: scenes set \"\(parts[1])\" is not one of \(ScenesSet.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    guard let split = DataSplit(rawValue: parts[2]) else {
        throw ValidationError("--data: scenes split \"\(parts[2])\" is not one of \(DataSplit.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return (set, split)
}

/// `--kinds title,query` as text kinds, each checked; nil when the option is not given.
func textKinds(_ list: String?) throws -> [TextKind]? {
    try list.map { list in
        try list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.map { name in
            guard let kind = TextKind(rawValue: name) else {
                throw ValidationError("--kinds: \"\(name)\" is not a text kind; one of \(TextKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return kind
        }
    }
}

/// `--classes NAME,NAME,…` (label order) as names, each trimmed; nil when the option is not given.
func classNameList(_ list: String?) throws -> [String]? {
    try list.map { list in
        let names = list.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if let empty = names.firstIndex(of: "") { throw ValidationError("--classes: name \(empty + 1) of \(names.count) is empty") }
        return names
    }
}

/// The class names that name an imagefolder output's folders, for one input part: `--classes`
/// when given (label order), else the input's own folder names (an imagefolder input). An input
/// without names (idx files) needs `--classes`. Empty for any other output format, which
/// `--classes` cannot name.
func outputClassNames(reading reader: SampleReader, part: String, writing target: DatasetFormat, classes: [String]?) throws -> [String] {
    guard target == .imagefolder else {
        if classes != nil {
            throw ValidationError("--classes names image folders: it needs --to imagefolder (part \(part) would be written as \(target.rawValue))")
        }
        return []
    }
    if let classes { return classes }
    if let names = (reader as? ImageFolderLabels.Reader)?.classNames, !names.isEmpty { return names }
    throw ValidationError("part \(part): writing imagefolder needs class names; pass --classes NAME,NAME,… in label order "
                          + "(an imagefolder input brings its own)")
}
