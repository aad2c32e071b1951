import Foundation

/// A stream of samples from one dataset. `next()` yields good samples in file order and
/// returns nil at the end; bad records are skipped and listed in `skipped`. It throws only for
/// problems that stop the whole read (a file missing or unreadable), naming the path.
public protocol SampleReader: AnyObject {
    func next() throws -> Sample?
    /// The records left out so far, with file, line and reason.
    var skipped: [SkippedRecord] { get }
}

extension SampleReader {
    /// Every remaining sample. Skips stay in `skipped`.
    public func readAll() throws -> [Sample] {
        var samples: [Sample] = []
        while let sample = try next() { samples.append(sample) }
        return samples
    }
}

/// A sink for samples in one dataset format. Nothing is visible at the destination until
/// `finish()`, which moves the finished files into place (temp file + rename).
public protocol SampleWriter: AnyObject {
    func write(_ sample: Sample) throws
    /// Completes and publishes the files; returns their paths.
    @discardableResult
    func finish() throws -> [String]
}

extension SampleWriter {
    public func write<S: Sequence>(contentsOf samples: S) throws where S.Element == Sample {
        for sample in samples { try write(sample) }
    }
}

/// Remembers ids seen so far, to report duplicates.
struct DuplicateIDFilter {
    private var seen = Set<String>()
    /// True the first time an id is seen.
    mutating func admit(_ id: String) -> Bool { seen.insert(id).inserted }
}
