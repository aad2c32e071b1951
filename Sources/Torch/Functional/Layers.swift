import CTorch

/// The kernels behind the `nn` layers, usable directly (as `torch.nn.functional`).
public enum Functional {
    /// `x · wᵀ + b`.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
        let y = try wrap(vt_linear(x.handle, weight.handle, bias?.handle), "linear of \(x.shape) with weight \(weight.shape)")
        if FlopCounter.isActive { FlopCounter.recordProduct(outputElements: y.count, inner: weight.size(-1)) }
        return y
    }

    /// Normalises over the trailing `normalizedShape` dimensions.
    public static func layerNorm(_ x: Tensor, normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil, eps: Double = 1e-5) throws -> Tensor {
        try withShape(normalizedShape) {
            try wrap(vt_layer_norm(x.handle, $0, $1, weight?.handle, bias?.handle, eps), "layerNorm of \(x.shape) over \(normalizedShape)")
        }
    }

    /// Zeroes elements with probability `p` and scales the rest by 1/(1-p) when `training`.
    public static func dropout(_ x: Tensor, p: Double, training: Bool) throws -> Tensor {
        guard training, p > 0 else { return x }
        return try wrap(vt_dropout(x.handle, p, training), "dropout")
    }

    /// Rows of `weight` picked by integer `indices`.
    public static func embedding(_ indices: Tensor, weight: Tensor, paddingIndex: Int? = nil) throws -> Tensor {
        try wrap(vt_embedding(weight.handle, indices.handle, Int64(paddingIndex ?? -1)),
                 "embedding of indices \(indices.shape) \(indices.dtype) in table \(weight.shape)")
    }

    /// 2-D convolution over [N, C, H, W].
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                              padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1) throws -> Tensor {
        let s = [Int64(stride.0), Int64(stride.1)], p = [Int64(padding.0), Int64(padding.1)]
        let d = [Int64(dilation.0), Int64(dilation.1)]
        let y = try wrap(vt_conv2d(x.handle, weight.handle, bias?.handle, s, p, d, Int64(groups)),
                         "conv2d of \(x.shape) with weight \(weight.shape)")
        if FlopCounter.isActive {
            FlopCounter.recordProduct(outputElements: y.count, inner: weight.size(1) * weight.size(2) * weight.size(3))
        }
        return y
    }

    /// Batch normalisation; with `training` false it uses the running statistics.
    public static func batchNorm(_ x: Tensor, runningMean: Tensor, runningVariance: Tensor, weight: Tensor?, bias: Tensor?,
                                 training: Bool = false, momentum: Double = 0.1, eps: Double = 1e-5) throws -> Tensor {
        try wrap(vt_batch_norm(x.handle, weight?.handle, bias?.handle, runningMean.handle, runningVariance.handle, training, momentum, eps),
                 "batchNorm of \(x.shape)")
    }

    public static func adaptiveAveragePool2d(_ x: Tensor, outputSize: (Int, Int)) throws -> Tensor {
        try wrap(vt_adaptive_avg_pool2d(x.handle, Int64(outputSize.0), Int64(outputSize.1)), "adaptiveAveragePool2d of \(x.shape)")
    }

    public static func maxPool2d(_ x: Tensor, kernelSize: Int, stride: Int? = nil, padding: Int = 0) throws -> Tensor {
        try wrap(vt_max_pool2d(x.handle, Int64(kernelSize), Int64(stride ?? kernelSize), Int64(padding)), "maxPool2d of \(x.shape)")
    }

    /// Average over `kernelSize` × `kernelSize` windows of [N, C, H, W], `stride` apart (default:
    /// the kernel size), without padding (`nn.AvgPool2d(kernelSize, stride)`).
    public static func averagePool2d(_ x: Tensor, kernelSize: Int, stride: Int? = nil) throws -> Tensor {
        try wrap(vt_avg_pool2d(x.handle, Int64(kernelSize), Int64(stride ?? kernelSize)), "averagePool2d of \(x.shape)")
    }

    /// Bicubic resampling of [N, C, H, W] to `size` (as F.interpolate(mode="bicubic")).
    public static func interpolateBicubic(_ x: Tensor, size: (Int, Int), alignCorners: Bool = false) throws -> Tensor {
        try wrap(vt_interpolate_bicubic(x.handle, Int64(size.0), Int64(size.1), alignCorners), "interpolateBicubic of \(x.shape)")
    }

    /// `x / max(‖x‖ₚ, eps)` along `dim`.
    public static func normalize(_ x: Tensor, p: Double = 2, dim: Int = -1, eps: Double = 1e-12) throws -> Tensor {
        try wrap(vt_normalize(x.handle, p, Int64(dim), eps), "normalize of \(x.shape) along \(dim)")
    }

    public static func cosineSimilarity(_ a: Tensor, _ b: Tensor, dim: Int = 1, eps: Double = 1e-8) throws -> Tensor {
        try wrap(vt_cosine_similarity(a.handle, b.handle, Int64(dim), eps), "cosineSimilarity of \(a.shape) and \(b.shape)")
    }

    /// Attention `softmax(q·kᵀ/√d + mask)·v` over [..., L, d] queries and [..., S, d] keys/values.
    ///
    /// `mask` is boolean (true = may attend) or additive float, broadcastable to [..., L, S].
    /// Masked positions get the lowest finite score, so fully masked rows stay finite.
    /// With `returnWeights` the attention probabilities come back too.
    public static func scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, mask: Tensor? = nil,
                                                 dropout: Double = 0, isCausal: Bool = false, training: Bool = false,
                                                 returnWeights: Bool = false) throws -> (output: Tensor, weights: Tensor?) {
        var weights: vt_tensor?
        let out: vt_tensor?
        if returnWeights {
            out = vt_scaled_dot_product_attention(query.handle, key.handle, value.handle, mask?.handle, dropout, isCausal, training, &weights)
        } else {
            out = vt_scaled_dot_product_attention(query.handle, key.handle, value.handle, mask?.handle, dropout, isCausal, training, nil)
        }
        let output = try wrap(out, "scaledDotProductAttention of q \(query.shape), k \(key.shape), v \(value.shape)")
        if FlopCounter.isActive {
            // q·kᵀ and weights·v: two products of [..., L, S] outputs of inner length d (and back).
            let scores = query.count / max(1, query.size(-1)) * key.size(-2)
            FlopCounter.recordProduct(outputElements: scores, inner: query.size(-1))
            FlopCounter.recordProduct(outputElements: output.count, inner: key.size(-2))
        }
        return (output, weights.map(Tensor.init(owning:)))
    }
}
