/// A preprocessed image as floats in CHW order (`values[(c * height + y) * width + x]`), ready
/// to become a tensor of shape `[channels, height, width]`.
public struct ImageTensorData: Equatable, Sendable {
    public var values: [Float]
    public let channels: Int
    public let height: Int
    public let width: Int

    public init(values: [Float], channels: Int, height: Int, width: Int) {
        precondition(values.count == channels * height * width,
                     "ImageTensorData: \(values.count) values for \(channels)×\(height)×\(width)")
        self.values = values
        self.channels = channels
        self.height = height
        self.width = width
    }

    public var shape: [Int] { [channels, height, width] }
}
