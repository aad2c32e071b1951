import Foundation

/// What an index folder holds, written as `manifest.json`: enough to check the folder is whole
/// and to embed queries the way its images were embedded.
public struct IndexManifest: Codable, Equatable, Sendable {
    public static let formatName = "swift-vlp-index"
    public static let currentVersion = 1

    public var format = IndexManifest.formatName
    public var version = IndexManifest.currentVersion
    /// The checkpoint folder whose image tower embedded the images (absolute path).
    public var checkpoint: String
    /// Tokens per text query, special tokens included: the length the model was trained and
    /// evaluated with.
    public var contextLength: Int
    /// Feature width.
    public var dimension: Int
    /// FAISS index-factory string (`Flat`, `HNSW32`, `IVF256,PQ32`, …).
    public var factory: String
    /// Vectors (= entries) in the index.
    public var count: Int
    /// Where the images came from.
    public var source: String
    /// Images of the source that could not be read or decoded.
    public var skipped: Int
    /// Texts embedded for image→text search (`texts.faiss`, one vector per text of every
    /// entry, in entry order); 0 when the index holds images only.
    public var textCount: Int
    /// FAISS search-time parameters set before the index was written ("efSearch=128"), if any.
    public var searchParameters: String?
    /// ISO-8601 time of the build.
    public var created: String

    enum CodingKeys: String, CodingKey {
        case format, version, checkpoint, contextLength = "context_length", dimension, factory, count, source, skipped, created
        case textCount = "text_count", searchParameters = "search_parameters"
    }

    public init(checkpoint: String, contextLength: Int, dimension: Int, factory: String, count: Int, source: String, skipped: Int,
                textCount: Int = 0, searchParameters: String? = nil, created: Date = Date()) {
        self.checkpoint = checkpoint
        self.contextLength = contextLength
        self.dimension = dimension
        self.factory = factory
        self.count = count
        self.source = source
        self.skipped = skipped
        self.textCount = textCount
        self.searchParameters = searchParameters
        self.created = ISO8601DateFormatter().string(from: created)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(String.self, forKey: .format)
        version = try c.decode(Int.self, forKey: .version)
        checkpoint = try c.decode(String.self, forKey: .checkpoint)
        contextLength = try c.decode(Int.self, forKey: .contextLength)
        dimension = try c.decode(Int.self, forKey: .dimension)
        factory = try c.decode(String.self, forKey: .factory)
        count = try c.decode(Int.self, forKey: .count)
        source = try c.decode(String.self, forKey: .source)
        skipped = try c.decode(Int.self, forKey: .skipped)
        textCount = try c.decodeIfPresent(Int.self, forKey: .textCount) ?? 0
        searchParameters = try c.decodeIfPresent(String.self, forKey: .searchParameters)
        created = try c.decode(String.self, forKey: .created)
    }
}

/// One indexed image: its id in the source, where its bytes are, and the texts the source gave it.
public struct IndexEntry: Codable, Equatable, Sendable {
    /// The sample id (datasets) or the path relative to the folder (image folders).
    public var id: String
    /// The image file: relative to the index folder when the index holds a copy, else absolute.
    public var image: String
    /// The source's texts for the image (empty for an image folder).
    public var texts: [String]

    public init(id: String, image: String, texts: [String] = []) {
        self.id = id
        self.image = image
        self.texts = texts
    }
}
