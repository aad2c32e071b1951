// Neural-network functions: layers' kernels, attention and losses.
#include <cmath>
#include <limits>

#include <torch/csrc/api/include/torch/version.h>

#include "Support.h"

using namespace ctorch;

namespace {

// Attention with explicit weights. Masked scores get float's lowest finite value rather
// than -inf, so a query whose keys are all masked (padding) attends uniformly instead of
// producing NaN, as Hugging Face's BERT does.
at::Tensor attention_with_weights(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
                                  const c10::optional<at::Tensor> &mask, double dropout_p, bool is_causal,
                                  bool train, at::Tensor *weights) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  // Under autocast the product is bf16 / fp16; masking and softmax run in fp32 (the fp32 policy,
  // and float's lowest value would not fit the lower precision).
  auto scores = autocast_fp32(pooled_matmul(q, k.transpose(-2, -1))) * scale;
  const auto lowest = at::Scalar(std::numeric_limits<float>::lowest());
  if (is_causal) {
    auto L = q.size(-2), S = k.size(-2);
    auto future = at::ones({L, S}, q.options().dtype(at::kBool)).triu(1);
    scores = scores.masked_fill(future, lowest);
  }
  if (mask.has_value()) {
    if (mask->scalar_type() == at::kBool) {
      scores = scores.masked_fill(mask->logical_not(), lowest);
    } else {
      scores = scores + *mask;
    }
  }
  auto w = at::softmax(scores, -1);
  if (dropout_p > 0 && train) w = at::dropout(w, dropout_p, true);
  if (weights != nullptr) *weights = w;
  return pooled_matmul(w, v);
}

}  // namespace

extern "C" {

vt_tensor vt_linear(vt_tensor x, vt_tensor w, vt_tensor b) { VT_HANDLE(pooled_linear(T(x), T(w), optional_tensor(b))) }
vt_tensor vt_gelu(vt_tensor x, int32_t approximate) { VT_HANDLE(at::gelu(T(x), approximate == 1 ? "tanh" : "none")) }
vt_tensor vt_softmax(vt_tensor x, int64_t dim) { VT_HANDLE(at::softmax(autocast_fp32(T(x)), dim)) }
vt_tensor vt_log_softmax(vt_tensor x, int64_t dim) { VT_HANDLE(at::log_softmax(autocast_fp32(T(x)), dim)) }
vt_tensor vt_layer_norm(vt_tensor x, const int64_t *s, size_t n, vt_tensor w, vt_tensor b, double eps) {
  VT_HANDLE(at::layer_norm(autocast_fp32(T(x)), dims(s, n), optional_tensor(w), optional_tensor(b), eps))
}
vt_tensor vt_dropout(vt_tensor x, double p, bool train) { VT_HANDLE(at::dropout(T(x), p, train)) }
vt_tensor vt_embedding(vt_tensor weight, vt_tensor indices, int64_t padding_idx) {
  VT_HANDLE(at::embedding(T(weight), T(indices), padding_idx))
}
vt_tensor vt_conv2d(vt_tensor x, vt_tensor w, vt_tensor b, const int64_t *stride, const int64_t *padding,
                    const int64_t *dilation, int64_t groups) {
  VT_HANDLE(at::conv2d(T(x), T(w), optional_tensor(b), dims(stride, 2), dims(padding, 2), dims(dilation, 2), groups))
}
vt_tensor vt_batch_norm(vt_tensor x, vt_tensor w, vt_tensor b, vt_tensor mean, vt_tensor var, bool training,
                        double momentum, double eps) {
  VT_HANDLE(at::batch_norm(T(x), optional_tensor(w), optional_tensor(b), T(mean), T(var), training, momentum, eps,
                           at::globalContext().userEnabledCuDNN()))
}
vt_tensor vt_adaptive_avg_pool2d(vt_tensor x, int64_t h, int64_t w) { VT_HANDLE(at::adaptive_avg_pool2d(T(x), {h, w})) }
vt_tensor vt_max_pool2d(vt_tensor x, int64_t kernel, int64_t stride, int64_t padding) {
  VT_HANDLE(at::max_pool2d(T(x), {kernel, kernel}, {stride, stride}, {padding, padding}))
}
vt_tensor vt_avg_pool2d(vt_tensor x, int64_t kernel, int64_t stride) {
  VT_HANDLE(at::avg_pool2d(T(x), {kernel, kernel}, {stride, stride}))
}
vt_tensor vt_interpolate_bicubic(vt_tensor x, int64_t h, int64_t w, bool align_corners) {
  VT_HANDLE(at::upsample_bicubic2d(T(x), {h, w}, align_corners, c10::nullopt, c10::nullopt))
}
vt_tensor vt_pad(vt_tensor x, const int64_t *pads, size_t n, double value) {
  VT_HANDLE(at::constant_pad_nd(T(x), dims(pads, n), value))
}

vt_tensor vt_scaled_dot_product_attention(vt_tensor q, vt_tensor k, vt_tensor v, vt_tensor mask, double dropout_p,
                                          bool is_causal, bool train, vt_tensor *weights_out) {
  VT_TRY
  auto m = optional_tensor(mask);
#if TORCH_VERSION_MAJOR >= 2
  // libtorch 2.x has a fused kernel (flash / memory-efficient on CUDA); it cannot return the
  // weights, and we keep our finite masking for boolean masks.
  if (weights_out == nullptr && (!m.has_value() || m->scalar_type() != at::kBool)) {
    return H(at::scaled_dot_product_attention(T(q), T(k), T(v), m, train ? dropout_p : 0.0, is_causal));
  }
#endif
  at::Tensor weights;
  auto out = attention_with_weights(T(q), T(k), T(v), m, dropout_p, is_causal, train,
                                    weights_out ? &weights : nullptr);
  if (weights_out != nullptr) *weights_out = H(weights);
  return H(out);
  VT_CATCH(nullptr)
}

vt_tensor vt_cross_entropy(vt_tensor logits, vt_tensor target, vt_tensor weight, int32_t reduction,
                           int64_t ignore_index, double label_smoothing) {
  VT_HANDLE(at::cross_entropy_loss(autocast_fp32(T(logits)), T(target), optional_tensor(weight), reduction, ignore_index,
                                   label_smoothing))
}
vt_tensor vt_binary_cross_entropy_with_logits(vt_tensor logits, vt_tensor target, vt_tensor weight,
                                              vt_tensor pos_weight, int32_t reduction) {
  VT_HANDLE(at::binary_cross_entropy_with_logits(T(logits), T(target), optional_tensor(weight),
                                                 optional_tensor(pos_weight), reduction))
}
vt_tensor vt_mse_loss(vt_tensor a, vt_tensor b, int32_t reduction) { VT_HANDLE(at::mse_loss(T(a), T(b), reduction)) }
vt_tensor vt_normalize(vt_tensor x, double p, int64_t dim, double eps) {
  VT_TRY
  auto x32 = autocast_fp32(T(x));
  auto denom = at::norm(x32, p, {dim}, true).clamp_min(eps).expand_as(x32);
  return H(x32 / denom);
  VT_CATCH(nullptr)
}
vt_tensor vt_cosine_similarity(vt_tensor a, vt_tensor b, int64_t dim, double eps) {
  VT_HANDLE(at::cosine_similarity(T(a), T(b), dim, eps))
}

}  // extern "C"
