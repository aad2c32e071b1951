import Torch

/// EfficientNet-Lite's inverted-residual block (MobileNetV2's MBConv without squeeze-excitation):
/// 1×1 expansion (skipped when the ratio is 1) → k×k depthwise convolution (with the stride) →
/// 1×1 linear projection, each followed by batch norm, the first two by ReLU6; a residual when
/// the stride is 1 and the channels are kept. Keys as lukemelas' EfficientNet-PyTorch
/// (`_expand_conv`, `_bn0`, `_depthwise_conv`, `_bn1`, `_project_conv`, `_bn2`).
public final class MBConvBlock: Module {
    @Child(key: "_expand_conv") public var expandConvolution: SamePaddingConv2d?
    @Child(key: "_bn0") public var expandNorm: BatchNorm2d?
    @Child(key: "_depthwise_conv") public var depthwiseConvolution: SamePaddingConv2d
    @Child(key: "_bn1") public var depthwiseNorm: BatchNorm2d
    @Child(key: "_project_conv") public var projectConvolution: SamePaddingConv2d
    @Child(key: "_bn2") public var projectNorm: BatchNorm2d
    public let hasResidual: Bool
    /// Probability of dropping the residual branch in training (stochastic depth).
    public let dropConnectRate: Double

    public init(input: Int, output: Int, stride: Int, kernelSize: Int, expandRatio: Int, batchNormEps: Double,
                dropConnectRate: Double = 0) throws {
        let hidden = input * expandRatio
        // BN momentum 0.01 in PyTorch terms = TensorFlow's decay 0.99.
        func norm(_ channels: Int) throws -> BatchNorm2d { try BatchNorm2d(channels, eps: batchNormEps, momentum: 0.01) }
        if expandRatio != 1 {
            _expandConvolution.wrappedValue = try SamePaddingConv2d(input, hidden, kernelSize: 1)
            _expandNorm.wrappedValue = try norm(hidden)
        } else {
            _expandConvolution.wrappedValue = nil
            _expandNorm.wrappedValue = nil
        }
        _depthwiseConvolution.wrappedValue = try SamePaddingConv2d(hidden, hidden, kernelSize: kernelSize, stride: stride, groups: hidden)
        _depthwiseNorm.wrappedValue = try norm(hidden)
        _projectConvolution.wrappedValue = try SamePaddingConv2d(hidden, output, kernelSize: 1)
        _projectNorm.wrappedValue = try norm(output)
        hasResidual = stride == 1 && input == output
        self.dropConnectRate = dropConnectRate
        super.init()
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        var h = x
        if let expandConvolution, let expandNorm { h = try expandNorm(expandConvolution(h)).relu6() }
        h = try depthwiseNorm(depthwiseConvolution(h)).relu6()
        h = try projectNorm(projectConvolution(h))
        guard hasResidual else { return h }
        if isTraining && dropConnectRate > 0 {
            // Keep each sample's branch with probability p and rescale by 1/p.
            let keep = 1 - dropConnectRate
            let mask = try (Tensor.rand([h.size(0), 1, 1, 1], dtype: h.dtype, device: h.device) + keep).floor()
            h = try h * mask / keep
        }
        return try h + x
    }
}

extension Tensor {
    /// `min(max(x, 0), 6)`, MobileNet's activation (quantisation-friendly).
    public func relu6() throws -> Tensor { try clamp(min: 0, max: 6) }
}
