import Torch

/// Stacks prepared samples into one `Batch`: one contiguous buffer per tensor, one copy into
/// libtorch each.
public enum BatchAssembly {
    /// Every sample's `part`, or nil when the first sample has none; a sample without it while the
    /// first has it is an error naming both.
    static func everySample<Part>(_ samples: [SampleTransform.Prepared], _ part: KeyPath<SampleTransform.Prepared, Part?>,
                                  named what: String) throws -> [Part]? {
        guard let first = samples.first, first[keyPath: part] != nil else { return nil }
        return try samples.map { sample in
            guard let value = sample[keyPath: part] else {
                throw DatasetError.invalidArgument("batch assembly: sample \(sample.sampleID) has no \(what) while \(first.sampleID) has")
            }
            return value
        }
    }

    public static func batch(_ samples: [SampleTransform.Prepared], position: LoaderPosition) throws -> Batch {
        var scratch: [Float] = []
        return try batch(samples, position: position, scratch: &scratch)
    }

    /// `batch(_:position:)` staging the images in `scratch`, which is grown when too small and
    /// kept for the next call.
    public static func batch(_ samples: [SampleTransform.Prepared], position: LoaderPosition,
                             scratch: inout [Float]) throws -> Batch {
        guard let first = samples.first else {
            throw DatasetError.invalidArgument("batch assembly: no samples")
        }
        let shape = first.image.shape
        for sample in samples where sample.image.shape != shape {
            throw DatasetError.invalidArgument(
                "batch assembly: sample \(sample.sampleID) has image shape \(sample.image.shape), sample \(first.sampleID) \(shape); the image pipeline must end in a fixed size (a crop)")
        }
        let plane = first.image.values.count
        let b = samples.count
        // One reused staging buffer: libtorch copies out of it, so nothing of size B×3×H×W is
        // allocated per batch on our side (fewer large allocations, less allocator growth).
        if scratch.count < b * plane { scratch = [Float](repeating: 0, count: b * plane) }
        let images = try scratch.withUnsafeMutableBufferPointer { buffer -> Tensor in
            for (i, sample) in samples.enumerated() {
                sample.image.values.withUnsafeBufferPointer { source in
                    (buffer.baseAddress! + i * plane).update(from: source.baseAddress!, count: plane)
                }
            }
            return try Tensor(bytes: UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[0..<(b * plane * MemoryLayout<Float>.stride)]),
                              shape: [b] + shape, dtype: .float32)
        }
        let imageIDs = try Tensor(samples.map(\.imageID), shape: [b])

        var text: TextBatch?
        var strings: [String] = [], kinds: [TextKind] = []
        if let texts = try everySample(samples, \.text, named: "text") {
            let length = texts[0].tokens.count
            for (sample, t) in zip(samples, texts) where t.tokens.count != length {
                throw DatasetError.invalidArgument("batch assembly: sample \(sample.sampleID) has \(t.tokens.count) tokens, \(first.sampleID) \(length)")
            }
            let masked = texts.allSatisfy { $0.masked != nil } ? texts.map { $0.masked! } : nil
            text = try TextBatch(rows: texts.map(\.tokens.ids), attentionMask: texts.map(\.tokens.attentionMask),
                                 tokenTypeIDs: texts.map(\.tokens.tokenTypeIDs), masked: masked)
            (strings, kinds) = (texts.map(\.text), texts.map(\.kind))
        }
        let labels = samples.allSatisfy { $0.label != nil } ? try Tensor(samples.map { Int64($0.label!) }, shape: [b]) : nil
        let sampleIDs = samples.map(\.sampleID)
        let rewrites = try everySample(samples, \.rewrites, named: "rewritten texts").map { try RewriteBatch($0, sampleIDs: sampleIDs) }
        let regions = try everySample(samples, \.regions, named: "regions").map { try RegionBatch($0, sampleIDs: sampleIDs) }
        return Batch(images: images, imageIDs: imageIDs, sampleIDs: samples.map(\.sampleID), text: text, texts: strings, textKinds: kinds,
                     position: position, labels: labels, rewrites: rewrites, regions: regions)
    }
}
