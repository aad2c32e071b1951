// Tensor operations: elementwise, in-place, linear algebra, reductions, shape, sorting.
#include <cmath>
#include <sstream>

#include <c10/core/GradMode.h>

#include "Support.h"

using namespace ctorch;

namespace {

at::Tensor binary(vt_binary_op op, const at::Tensor &a, const at::Tensor &b) {
  switch (op) {
    case VT_BINARY_ADD: return at::add(a, b);
    case VT_BINARY_SUB: return at::sub(a, b);
    case VT_BINARY_MUL: return at::mul(a, b);
    case VT_BINARY_DIV: return at::div(a, b);
    case VT_BINARY_POW: return at::pow(a, b);
    case VT_BINARY_REMAINDER: return at::remainder(a, b);
    case VT_BINARY_MAXIMUM: return at::maximum(a, b);
    case VT_BINARY_MINIMUM: return at::minimum(a, b);
    case VT_BINARY_EQ: return at::eq(a, b);
    case VT_BINARY_NE: return at::ne(a, b);
    case VT_BINARY_LT: return at::lt(a, b);
    case VT_BINARY_LE: return at::le(a, b);
    case VT_BINARY_GT: return at::gt(a, b);
    case VT_BINARY_GE: return at::ge(a, b);
    case VT_BINARY_LOGICAL_AND: return at::logical_and(a, b);
    case VT_BINARY_LOGICAL_OR: return at::logical_or(a, b);
    case VT_BINARY_ATAN2: return at::atan2(a, b);
    case VT_BINARY_FLOOR_DIVIDE: return at::floor_divide(a, b);
    default: throw std::invalid_argument("unknown binary op code " + std::to_string(static_cast<int>(op)));
  }
}

at::Tensor binary_scalar(vt_binary_op op, const at::Tensor &a, const at::Scalar &b) {
  switch (op) {
    case VT_BINARY_ADD: return at::add(a, b);
    case VT_BINARY_SUB: return at::sub(a, b);
    case VT_BINARY_MUL: return at::mul(a, b);
    case VT_BINARY_DIV: return at::div(a, b);
    case VT_BINARY_POW: return at::pow(a, b);
    case VT_BINARY_REMAINDER: return at::remainder(a, b);
    case VT_BINARY_MAXIMUM: return at::clamp_min(a, b);
    case VT_BINARY_MINIMUM: return at::clamp_max(a, b);
    case VT_BINARY_EQ: return at::eq(a, b);
    case VT_BINARY_NE: return at::ne(a, b);
    case VT_BINARY_LT: return at::lt(a, b);
    case VT_BINARY_LE: return at::le(a, b);
    case VT_BINARY_GT: return at::gt(a, b);
    case VT_BINARY_GE: return at::ge(a, b);
    case VT_BINARY_FLOOR_DIVIDE: return at::floor_divide(a, at::scalar_tensor(b, a.options()));
    default: throw std::invalid_argument("unknown scalar binary op code " + std::to_string(static_cast<int>(op)));
  }
}

at::Tensor unary(vt_unary_op op, const at::Tensor &a) {
  switch (op) {
    case VT_UNARY_NEG: return at::neg(a);
    case VT_UNARY_EXP: return at::exp(a);
    case VT_UNARY_LOG: return at::log(a);
    case VT_UNARY_SQRT: return at::sqrt(a);
    case VT_UNARY_RSQRT: return at::rsqrt(a);
    case VT_UNARY_ABS: return at::abs(a);
    case VT_UNARY_TANH: return at::tanh(a);
    case VT_UNARY_SIGMOID: return at::sigmoid(a);
    case VT_UNARY_RELU: return at::relu(a);
    case VT_UNARY_SILU: return at::silu(a);
    case VT_UNARY_SIN: return at::sin(a);
    case VT_UNARY_COS: return at::cos(a);
    case VT_UNARY_FLOOR: return at::floor(a);
    case VT_UNARY_CEIL: return at::ceil(a);
    case VT_UNARY_ROUND: return at::round(a);
    case VT_UNARY_SIGN: return at::sign(a);
    case VT_UNARY_LOGICAL_NOT: return at::logical_not(a);
    case VT_UNARY_ISNAN: return at::isnan(a);
    case VT_UNARY_ISFINITE: return at::isfinite(a);
    case VT_UNARY_SQUARE: return at::square(a);
    case VT_UNARY_LOG1P: return at::log1p(a);
    case VT_UNARY_EXPM1: return at::expm1(a);
    case VT_UNARY_RECIPROCAL: return at::reciprocal(a);
    case VT_UNARY_ERF: return at::erf(a);
    case VT_UNARY_ISINF: return at::isinf(a);
    default: throw std::invalid_argument("unknown unary op code " + std::to_string(static_cast<int>(op)));
  }
}

c10::optional<at::Scalar> bound(double v, bool has) { return has ? c10::optional<at::Scalar>(v) : c10::nullopt; }

int pair_out(std::tuple<at::Tensor, at::Tensor> r, vt_tensor *first, vt_tensor *second) {
  *first = H(std::get<0>(r));
  *second = H(std::get<1>(r));
  return 0;
}

}  // namespace

extern "C" {

// MARK: elementwise
vt_tensor vt_binary(vt_binary_op op, vt_tensor a, vt_tensor b) { VT_HANDLE(binary(op, T(a), T(b))) }
vt_tensor vt_binary_scalar(vt_binary_op op, vt_tensor a, vt_scalar b) { VT_HANDLE(binary_scalar(op, T(a), S(b))) }
vt_tensor vt_scalar_binary(vt_binary_op op, vt_scalar a, vt_tensor b) {
  VT_TRY
  switch (op) {
    case VT_BINARY_SUB: return H(at::rsub(T(b), S(a)));
    case VT_BINARY_DIV: return H(at::mul(at::reciprocal(T(b)), S(a)));
    case VT_BINARY_POW: return H(at::pow(S(a), T(b)));
    default: throw std::invalid_argument("unknown scalar-first op code " + std::to_string(static_cast<int>(op)));
  }
  VT_CATCH(nullptr)
}
vt_tensor vt_unary(vt_unary_op op, vt_tensor a) { VT_HANDLE(unary(op, T(a))) }
vt_tensor vt_clamp(vt_tensor a, double min, bool has_min, double max, bool has_max) {
  VT_HANDLE(at::clamp(T(a), bound(min, has_min), bound(max, has_max)))
}
vt_tensor vt_where(vt_tensor c, vt_tensor a, vt_tensor b) { VT_HANDLE(at::where(T(c), T(a), T(b))) }
vt_tensor vt_masked_fill(vt_tensor a, vt_tensor mask, vt_scalar v) { VT_HANDLE(at::masked_fill(T(a), T(mask), S(v))) }
vt_tensor vt_lerp(vt_tensor a, vt_tensor b, double w) { VT_HANDLE(at::lerp(T(a), T(b), w)) }

// MARK: in-place
int vt_inplace_binary(vt_inplace_op op, vt_tensor a, vt_tensor b, double alpha) {
  VT_TRY
  switch (op) {
    // alpha = 1 is passed without a floating scalar, which integer tensors reject.
    case VT_INPLACE_ADD: alpha == 1.0 ? T(a).add_(T(b)) : T(a).add_(T(b), alpha); break;
    case VT_INPLACE_SUB: alpha == 1.0 ? T(a).sub_(T(b)) : T(a).sub_(T(b), alpha); break;
    case VT_INPLACE_MUL: T(a).mul_(T(b)); break;
    case VT_INPLACE_DIV: T(a).div_(T(b)); break;
    case VT_INPLACE_COPY: T(a).copy_(T(b)); break;
    default: throw std::invalid_argument("unknown in-place op code " + std::to_string(static_cast<int>(op)));
  }
  return 0;
  VT_CATCH(1)
}
int vt_inplace_binary_scalar(vt_inplace_op op, vt_tensor a, vt_scalar b) {
  VT_TRY
  switch (op) {
    case VT_INPLACE_ADD: T(a).add_(S(b)); break;
    case VT_INPLACE_SUB: T(a).sub_(S(b)); break;
    case VT_INPLACE_MUL: T(a).mul_(S(b)); break;
    case VT_INPLACE_DIV: T(a).div_(S(b)); break;
    default: throw std::invalid_argument("unknown in-place scalar op code " + std::to_string(static_cast<int>(op)));
  }
  return 0;
  VT_CATCH(1)
}
int vt_addcmul_(vt_tensor a, vt_tensor b, vt_tensor c, double v) { VT_STATUS(T(a).addcmul_(T(b), T(c), v)) }
int vt_addcdiv_(vt_tensor a, vt_tensor b, vt_tensor c, double v) { VT_STATUS(T(a).addcdiv_(T(b), T(c), v)) }
int vt_lerp_(vt_tensor a, vt_tensor b, double w) { VT_STATUS(T(a).lerp_(T(b), w)) }
int vt_zero_(vt_tensor a) { VT_STATUS(T(a).zero_()) }
int vt_fill_(vt_tensor a, vt_scalar v) { VT_STATUS(T(a).fill_(S(v))) }
int vt_clamp_(vt_tensor a, double min, bool has_min, double max, bool has_max) {
  VT_STATUS(T(a).clamp_(bound(min, has_min), bound(max, has_max)))
}
int vt_sqrt_(vt_tensor a) { VT_STATUS(T(a).sqrt_()) }
int vt_adamw_foreach_step(const vt_tensor *params, const vt_tensor *grads, const vt_tensor *first_moments,
                          const vt_tensor *second_moments, size_t n, double lr, double decay, double beta1,
                          double beta2, double eps, double c1, double c2) {
  VT_TRY
    c10::AutoGradMode no_grad(false);
    auto p = ctorch::tensors(params, n), g = ctorch::tensors(grads, n);
    auto m = ctorch::tensors(first_moments, n), v = ctorch::tensors(second_moments, n);
    if (decay != 0) at::_foreach_mul_(p, 1 - decay);
    // m ← β₁m + (1 − β₁)g (lerp has no multi-tensor kernel in every libtorch this builds against)
    at::_foreach_mul_(m, beta1);
    at::_foreach_add_(m, g, 1 - beta1);
    at::_foreach_mul_(v, beta2);
    at::_foreach_addcmul_(v, g, g, 1 - beta2);
    auto denominator = at::_foreach_sqrt(v);
    at::_foreach_div_(denominator, std::sqrt(c2));
    at::_foreach_add_(denominator, eps);
    at::_foreach_addcdiv_(p, m, denominator, -lr / c1);
    return 0;
  VT_CATCH(1)
}

// MARK: linear algebra
vt_tensor vt_matmul(vt_tensor a, vt_tensor b) { VT_HANDLE(at::matmul(T(a), T(b))) }
vt_tensor vt_bmm(vt_tensor a, vt_tensor b) { VT_HANDLE(at::bmm(T(a), T(b))) }

// MARK: reductions
vt_tensor vt_sum(vt_tensor a, const int64_t *d, size_t n, bool keep) {
  VT_HANDLE(n == 0 ? at::sum(T(a)) : at::sum(T(a), dims(d, n), keep))
}
vt_tensor vt_mean(vt_tensor a, const int64_t *d, size_t n, bool keep) {
  VT_HANDLE(n == 0 ? at::mean(T(a)) : at::mean(T(a), dims(d, n), keep))
}
vt_tensor vt_prod(vt_tensor a, int64_t dim, bool has_dim, bool keep) {
  VT_HANDLE(has_dim ? at::prod(T(a), dim, keep) : at::prod(T(a)))
}
vt_tensor vt_amax(vt_tensor a, const int64_t *d, size_t n, bool keep) { VT_HANDLE(at::amax(T(a), dims(d, n), keep)) }
vt_tensor vt_amin(vt_tensor a, const int64_t *d, size_t n, bool keep) { VT_HANDLE(at::amin(T(a), dims(d, n), keep)) }
int vt_max_dim(vt_tensor a, int64_t dim, bool keep, vt_tensor *v, vt_tensor *i) {
  VT_TRY return pair_out(at::max(T(a), dim, keep), v, i);
  VT_CATCH(1)
}
int vt_min_dim(vt_tensor a, int64_t dim, bool keep, vt_tensor *v, vt_tensor *i) {
  VT_TRY return pair_out(at::min(T(a), dim, keep), v, i);
  VT_CATCH(1)
}
vt_tensor vt_argmax(vt_tensor a, int64_t dim, bool has_dim, bool keep) {
  VT_HANDLE(at::argmax(T(a), has_dim ? c10::optional<int64_t>(dim) : c10::nullopt, keep))
}
vt_tensor vt_argmin(vt_tensor a, int64_t dim, bool has_dim, bool keep) {
  VT_HANDLE(at::argmin(T(a), has_dim ? c10::optional<int64_t>(dim) : c10::nullopt, keep))
}
vt_tensor vt_logsumexp(vt_tensor a, const int64_t *d, size_t n, bool keep) {
  VT_TRY
  if (n == 0) return H(at::logsumexp(T(a).reshape({-1}), {0}, keep));
  return H(at::logsumexp(T(a), dims(d, n), keep));
  VT_CATCH(nullptr)
}
vt_tensor vt_norm(vt_tensor a, double p, const int64_t *d, size_t n, bool keep) {
  VT_HANDLE(n == 0 ? at::norm(T(a), p) : at::norm(T(a), p, dims(d, n), keep))
}
vt_tensor vt_var(vt_tensor a, const int64_t *d, size_t n, bool unbiased, bool keep) {
  VT_HANDLE(n == 0 ? at::var(T(a), unbiased) : at::var(T(a), dims(d, n), unbiased, keep))
}
vt_tensor vt_cumsum(vt_tensor a, int64_t dim) { VT_HANDLE(at::cumsum(T(a), dim)) }
vt_tensor vt_any(vt_tensor a) { VT_HANDLE(at::any(T(a))) }
vt_tensor vt_all(vt_tensor a) { VT_HANDLE(at::all(T(a))) }

// MARK: shape
vt_tensor vt_reshape(vt_tensor a, const int64_t *s, size_t n) { VT_HANDLE(at::reshape(T(a), dims(s, n))) }
vt_tensor vt_permute(vt_tensor a, const int64_t *d, size_t n) { VT_HANDLE(T(a).permute(dims(d, n))) }
vt_tensor vt_transpose(vt_tensor a, int64_t d0, int64_t d1) { VT_HANDLE(at::transpose(T(a), d0, d1)) }
vt_tensor vt_squeeze(vt_tensor a, int64_t dim, bool has_dim) {
  VT_HANDLE(has_dim ? at::squeeze(T(a), dim) : at::squeeze(T(a)))
}
vt_tensor vt_unsqueeze(vt_tensor a, int64_t dim) { VT_HANDLE(at::unsqueeze(T(a), dim)) }
vt_tensor vt_expand(vt_tensor a, const int64_t *s, size_t n) { VT_HANDLE(T(a).expand(dims(s, n))) }
vt_tensor vt_repeat(vt_tensor a, const int64_t *r, size_t n) { VT_HANDLE(T(a).repeat(dims(r, n))) }
vt_tensor vt_flatten(vt_tensor a, int64_t start, int64_t end) { VT_HANDLE(at::flatten(T(a), start, end)) }
vt_tensor vt_flip(vt_tensor a, const int64_t *d, size_t n) { VT_HANDLE(at::flip(T(a), dims(d, n))) }
vt_tensor vt_cat(const vt_tensor *ts, size_t n, int64_t dim) { VT_HANDLE(at::cat(tensors(ts, n), dim)) }
vt_tensor vt_stack(const vt_tensor *ts, size_t n, int64_t dim) { VT_HANDLE(at::stack(tensors(ts, n), dim)) }
int vt_split(vt_tensor a, const int64_t *sizes, size_t nsizes, int64_t dim, vt_tensor **out, size_t *n) {
  VT_TRY
  auto parts = nsizes == 1 ? at::split(T(a), sizes[0], dim) : at::split_with_sizes(T(a), dims(sizes, nsizes), dim);
  *out = handle_list(parts);
  *n = parts.size();
  return 0;
  VT_CATCH(1)
}
int vt_chunk(vt_tensor a, int64_t chunks, int64_t dim, vt_tensor **out, size_t *n) {
  VT_TRY
  auto parts = at::chunk(T(a), chunks, dim);
  *out = handle_list(parts);
  *n = parts.size();
  return 0;
  VT_CATCH(1)
}
vt_tensor vt_narrow(vt_tensor a, int64_t dim, int64_t start, int64_t length) {
  VT_HANDLE(at::narrow(T(a), dim, start, length))
}
vt_tensor vt_slice(vt_tensor a, int64_t dim, int64_t start, int64_t end, int64_t step) {
  VT_HANDLE(at::slice(T(a), dim, start, end, step))
}
vt_tensor vt_select(vt_tensor a, int64_t dim, int64_t index) { VT_HANDLE(at::select(T(a), dim, index)) }
vt_tensor vt_index_select(vt_tensor a, int64_t dim, vt_tensor index) {
  VT_HANDLE(at::index_select(T(a), dim, T(index)))
}
vt_tensor vt_gather(vt_tensor a, int64_t dim, vt_tensor index) { VT_HANDLE(at::gather(T(a), dim, T(index))) }
vt_tensor vt_scatter(vt_tensor a, int64_t dim, vt_tensor index, vt_tensor src, int32_t reduce) {
  VT_HANDLE(reduce == 1 ? at::scatter_add(T(a), dim, T(index), T(src)) : at::scatter(T(a), dim, T(index), T(src)))
}
vt_tensor vt_masked_select(vt_tensor a, vt_tensor mask) { VT_HANDLE(at::masked_select(T(a), T(mask))) }
vt_tensor vt_index(vt_tensor a, vt_tensor index) { VT_HANDLE(T(a).index({at::indexing::TensorIndex(T(index))})) }
vt_tensor vt_index_put(vt_tensor a, vt_tensor index, vt_tensor values, bool accumulate) {
  VT_TRY
  c10::List<c10::optional<at::Tensor>> indices;
  indices.push_back(T(index));
  return H(at::index_put(T(a), indices, T(values), accumulate));
  VT_CATCH(nullptr)
}
vt_tensor vt_as_strided(vt_tensor a, const int64_t *size, const int64_t *stride, size_t n, int64_t offset) {
  VT_HANDLE(at::as_strided(T(a), dims(size, n), dims(stride, n), offset))
}
vt_tensor vt_tril(vt_tensor a, int64_t diagonal) { VT_HANDLE(at::tril(T(a), diagonal)) }
vt_tensor vt_triu(vt_tensor a, int64_t diagonal) { VT_HANDLE(at::triu(T(a), diagonal)) }
vt_tensor vt_nonzero(vt_tensor a) { VT_HANDLE(at::nonzero(T(a))) }
vt_tensor vt_one_hot(vt_tensor a, int64_t classes) { VT_HANDLE(at::one_hot(T(a), classes)) }

// MARK: sorting and sampling
int vt_topk(vt_tensor a, int64_t k, int64_t dim, bool largest, bool sorted, vt_tensor *v, vt_tensor *i) {
  VT_TRY return pair_out(at::topk(T(a), k, dim, largest, sorted), v, i);
  VT_CATCH(1)
}
int vt_sort(vt_tensor a, int64_t dim, bool descending, vt_tensor *v, vt_tensor *i) {
  VT_TRY return pair_out(at::sort(T(a), dim, descending), v, i);
  VT_CATCH(1)
}
vt_tensor vt_argsort(vt_tensor a, int64_t dim, bool descending) { VT_HANDLE(at::argsort(T(a), dim, descending)) }
vt_tensor vt_multinomial(vt_tensor probs, int64_t n, bool replacement) {
  VT_HANDLE(at::multinomial(T(probs), n, replacement))
}

}  // extern "C"
