// Private helpers shared by the CTorch translation units: handle conversion and the one
// error channel (every entry point runs its body inside VT_TRY … VT_CATCH).
#pragma once

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <exception>
#include <string>
#include <vector>

#include "ctorch.h"

namespace ctorch {

void set_error(const char *message);

inline at::Tensor &T(vt_tensor h) {
  if (h == nullptr) throw std::invalid_argument("null tensor handle");
  return *reinterpret_cast<at::Tensor *>(h);
}
inline c10::optional<at::Tensor> optional_tensor(vt_tensor h) {
  if (h == nullptr) return c10::nullopt;
  return T(h);
}
inline vt_tensor H(at::Tensor t) { return reinterpret_cast<vt_tensor>(new at::Tensor(std::move(t))); }

inline at::Scalar S(vt_scalar s) {
  switch (s.kind) {
    case 1: return at::Scalar(s.i);
    case 2: return at::Scalar(s.i != 0);
    default: return at::Scalar(s.f);
  }
}
inline at::IntArrayRef dims(const int64_t *p, size_t n) { return at::IntArrayRef(p, n); }
inline at::ScalarType dtype(int32_t d) { return static_cast<at::ScalarType>(d); }
inline at::Device device(int32_t type, int32_t index) {
  return at::Device(type == VT_CUDA ? at::kCUDA : at::kCPU, static_cast<c10::DeviceIndex>(index));
}
inline at::TensorOptions options(int32_t d, int32_t type, int32_t index) {
  return at::TensorOptions().dtype(dtype(d)).device(device(type, index));
}
inline std::vector<at::Tensor> tensors(const vt_tensor *ts, size_t n) {
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(T(ts[i]));
  return out;
}
/// A NULL-terminated malloc'ed list of new handles.
vt_tensor *handle_list(const std::vector<at::Tensor> &ts);

/// Autocast's fp32 policy for the ops libtorch 1.13's CPU autocast leaves in the input's lower
/// precision (softmax, log_softmax, layer_norm, norm; CUDA autocast lists them as fp32 ops): under
/// autocast a bfloat16 / float16 input is read in float32. Anything else passes through.
at::Tensor autocast_fp32(const at::Tensor &x);

/// Autocast's setting for one device type (kCPU / kCUDA) on this thread, over libtorch 1.x's
/// per-device functions and 2.4's device-typed ones.
bool autocast_enabled(at::DeviceType type);
at::ScalarType autocast_dtype(at::DeviceType type);
void set_autocast(at::DeviceType type, bool enabled, at::ScalarType dtype);

/// `at::linear` and `at::matmul`, split across the intra-op pool for large fp32 products on the
/// CPU that need no autograd while OpenBLAS runs single-threaded (PooledProducts.cpp); libtorch's
/// own call otherwise.
at::Tensor pooled_linear(const at::Tensor &x, const at::Tensor &weight, const c10::optional<at::Tensor> &bias);
at::Tensor pooled_matmul(const at::Tensor &a, const at::Tensor &b);

}  // namespace ctorch

#define VT_TRY try {
#define VT_CATCH(failure)                                                        \
  }                                                                              \
  catch (const c10::Error &e) {                                                  \
    ctorch::set_error(e.what_without_backtrace());                               \
    return failure;                                                              \
  }                                                                              \
  catch (const std::exception &e) {                                              \
    ctorch::set_error(e.what());                                                 \
    return failure;                                                              \
  }                                                                              \
  catch (...) {                                                                  \
    ctorch::set_error("unknown C++ exception");                                  \
    return failure;                                                              \
  }

/// Body of an entry point returning a new handle (NULL on error).
#define VT_HANDLE(expr) VT_TRY return ctorch::H(expr); VT_CATCH(nullptr)
/// Body of an entry point returning 0 on success, 1 on error.
#define VT_STATUS(stmts) VT_TRY stmts; return 0; VT_CATCH(1)
