/// One named curve of a `LineChart`: x and y values kept as two arrays (plain `Sendable` storage).
/// Points whose x or y is NaN or infinite are kept here and skipped when drawn.
public struct ReportSeries: Sendable, Equatable {
    public var name: String
    public private(set) var xs: [Double]
    public private(set) var ys: [Double]

    /// The points as pairs; setting replaces both arrays.
    public var points: [(x: Double, y: Double)] {
        get { zip(xs, ys).map { (x: $0, y: $1) } }
        set {
            xs = newValue.map(\.x)
            ys = newValue.map(\.y)
        }
    }

    public var isEmpty: Bool { xs.isEmpty }

    public init(name: String, points: [(x: Double, y: Double)]) {
        self.name = name
        xs = points.map(\.x)
        ys = points.map(\.y)
    }

    /// Values at x = `firstX`, `firstX + step`, … (a loss per step, a metric per epoch).
    public init<Y: BinaryFloatingPoint>(name: String, values: [Y], firstX: Double = 0, step: Double = 1) {
        self.name = name
        xs = values.indices.map { firstX + Double($0) * step }
        ys = values.map { Double($0) }
    }

    /// Paired arrays; they must have the same length.
    public init(name: String, xs: [Double], ys: [Double]) throws(ReportError) {
        guard xs.count == ys.count else {
            throw .seriesLengthMismatch(name: name, xCount: xs.count, yCount: ys.count)
        }
        self.name = name
        self.xs = xs
        self.ys = ys
    }

    /// Appends one point (as a training loop records a loss).
    public mutating func append(x: Double, y: Double) {
        xs.append(x)
        ys.append(y)
    }
}
