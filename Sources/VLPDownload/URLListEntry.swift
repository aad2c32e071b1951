import VLP

/// One row of a URL list: its position (0-based, counting only rows that are entries), the
/// image URL and the texts that go with it.
public struct URLListEntry: Equatable, Sendable {
    /// 0-based row number among the list's entries: it fixes the sample key and the shard.
    public var row: Int
    public var url: String
    public var texts: [SampleText]
    /// The list's own id for the row (Zero jsonl `id`), kept as the sample id.
    public var id: String?

    public init(row: Int, url: String, texts: [SampleText], id: String? = nil) {
        self.row = row
        self.url = url
        self.texts = texts
        self.id = id
    }
}

/// Yields a URL list's entries in order. A row that cannot be read at all (bad JSON, no URL
/// field) is an error naming the file and line: a list is input the user controls, and a
/// silently shorter list would shift every later row into another shard on a later run.
public protocol URLListReader: AnyObject {
    func next() throws -> URLListEntry?
}
