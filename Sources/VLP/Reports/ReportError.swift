/// Why a report element could not be built or written. Each case names the element and the
/// value that was wrong, so the message alone says what to fix.
public enum ReportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An image with no pixels (zero width or height, or a pixel buffer of the wrong size).
    case emptyImage(detail: String)
    /// A weight grid whose size does not match its stated shape, or a shape that is not positive.
    case weightCount(expected: Int, got: Int, gridHeight: Int, gridWidth: Int)
    /// A weight that is NaN or infinite.
    case nonFiniteWeight(index: Int, value: Float)
    /// A parameter outside the range it accepts (a scale of 0, a negative size).
    case invalidArgument(detail: String)
    /// A series built from x and y arrays of different lengths.
    case seriesLengthMismatch(name: String, xCount: Int, yCount: Int)
    /// The image codec failed.
    case encodingFailed(detail: String)

    public var description: String {
        switch self {
        case .emptyImage(let detail):
            return "attention heat map: empty image (\(detail))"
        case .weightCount(let expected, let got, let gridHeight, let gridWidth):
            return "attention heat map: \(got) weights for a \(gridHeight)×\(gridWidth) patch grid, expected \(expected)"
        case .nonFiniteWeight(let index, let value):
            return "attention heat map: weight \(index) is \(value), weights must be finite"
        case .invalidArgument(let detail):
            return "report: \(detail)"
        case .seriesLengthMismatch(let name, let xCount, let yCount):
            return "series \"\(name)\": \(xCount) x values but \(yCount) y values"
        case .encodingFailed(let detail):
            return "report: cannot encode image: \(detail)"
        }
    }
}
