// Errors, runtime settings, creation, properties and autograd entry points.
#include <dlfcn.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/csrc/api/include/torch/version.h>

#include <cstring>
#include <sstream>

#include "Support.h"

using namespace ctorch;

namespace {
thread_local std::string last_error;
thread_local bool has_error = false;
}  // namespace

void ctorch::set_error(const char *message) {
  last_error = message ? message : "unknown error";
  has_error = true;
}

vt_tensor *ctorch::handle_list(const std::vector<at::Tensor> &ts) {
  auto *list = static_cast<vt_tensor *>(malloc(sizeof(vt_tensor) * (ts.size() + 1)));
  if (list == nullptr) throw std::bad_alloc();
  for (size_t i = 0; i < ts.size(); ++i) list[i] = H(ts[i]);
  list[ts.size()] = nullptr;
  return list;
}

extern "C" {

const char *vt_last_error(void) { return has_error ? last_error.c_str() : nullptr; }
void vt_clear_error(void) {
  has_error = false;
  last_error.clear();
}
const char *vt_version(void) { return TORCH_VERSION; }
void vt_free(vt_tensor t) { delete reinterpret_cast<at::Tensor *>(t); }
void vt_free_list(vt_tensor *list) { free(list); }

int vt_manual_seed(uint64_t seed) { VT_STATUS(at::manual_seed(seed)) }
int vt_set_num_threads(int32_t n) { VT_STATUS(at::set_num_threads(n)) }
int32_t vt_get_num_threads(void) { return at::get_num_threads(); }
int vt_set_num_interop_threads(int32_t n) { VT_STATUS(at::set_num_interop_threads(n)) }

bool vt_set_flush_denormal(bool on) {
  try {
    return at::globalContext().setFlushDenormal(on);
  } catch (...) {
    return false;
  }
}

bool vt_set_heap_thresholds(int32_t mmap_threshold, int32_t trim_threshold, bool heap_only) {
#if defined(__GLIBC__)
  // Setting either turns off glibc's sliding mmap threshold, so both are set together. With
  // heap_only no block is mmapped at all, however large (glibc still falls back to mmap when the
  // heap cannot grow).
  return mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1 && mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1 &&
         (!heap_only || mallopt(M_MMAP_MAX, 0) == 1);
#else
  (void)mmap_threshold;
  (void)trim_threshold;
  (void)heap_only;
  return false;
#endif
}

int32_t vt_set_blas_threads(int32_t n) {
  using setter = void (*)(int);
  auto set = reinterpret_cast<setter>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set == nullptr) return 0;
  set(n);
  return 1;
}

int32_t vt_get_blas_threads(void) {
  using getter = int (*)(void);
  auto get = reinterpret_cast<getter>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return get == nullptr ? -1 : get();
}

bool vt_cuda_is_available(void) { return at::hasCUDA(); }
int32_t vt_cuda_device_count(void) {
  try {
    return at::hasCUDA() ? static_cast<int32_t>(at::detail::getCUDAHooks().getNumGPUs()) : 0;
  } catch (...) {
    return 0;
  }
}
int vt_cuda_synchronize(int32_t index) { VT_STATUS(at::detail::getCUDAHooks().deviceSynchronize(index)) }

// MARK: creation
vt_tensor vt_empty(const int64_t *s, size_t n, int32_t d, int32_t dev, int32_t i) {
  VT_HANDLE(at::empty(dims(s, n), options(d, dev, i)))
}
vt_tensor vt_zeros(const int64_t *s, size_t n, int32_t d, int32_t dev, int32_t i) {
  VT_HANDLE(at::zeros(dims(s, n), options(d, dev, i)))
}
vt_tensor vt_ones(const int64_t *s, size_t n, int32_t d, int32_t dev, int32_t i) {
  VT_HANDLE(at::ones(dims(s, n), options(d, dev, i)))
}
vt_tensor vt_full(const int64_t *s, size_t n, vt_scalar v, int32_t d, int32_t dev, int32_t i) {
  VT_HANDLE(at::full(dims(s, n), S(v), options(d, dev, i)))
}
vt_tensor vt_arange(vt_scalar start, vt_scalar end, vt_scalar step, int32_t d, int32_t dev, int32_t i) {
  VT_HANDLE(at::arange(S(start), S(end), S(step), options(d, dev, i)))
}
vt_tensor vt_randn(const int64_t *s, size_t n, int32_t d, int32_t dev, int32_t i) {
  VT_HANDLE(at::randn(dims(s, n), options(d, dev, i)))
}
vt_tensor vt_rand(const int64_t *s, size_t n, int32_t d, int32_t dev, int32_t i) {
  VT_HANDLE(at::rand(dims(s, n), options(d, dev, i)))
}
vt_tensor vt_randint(int64_t low, int64_t high, const int64_t *s, size_t n, int32_t d, int32_t dev, int32_t i) {
  VT_HANDLE(at::randint(low, high, dims(s, n), options(d, dev, i)))
}
vt_tensor vt_from_blob(const void *data, const int64_t *s, size_t n, int32_t d) {
  // libtorch never writes through a tensor it is only read from (state-dict loading copies).
  VT_HANDLE(at::from_blob(const_cast<void *>(data), dims(s, n), at::TensorOptions().dtype(dtype(d))))
}
vt_tensor vt_from_data(const void *data, size_t nbytes, const int64_t *s, size_t n, int32_t d) {
  VT_TRY
  auto t = at::empty(dims(s, n), at::TensorOptions().dtype(dtype(d)));
  size_t expected = static_cast<size_t>(t.numel()) * t.element_size();
  if (expected != nbytes) {
    std::ostringstream m;
    m << "from_data: " << nbytes << " bytes given for shape " << t.sizes() << " of "
      << t.scalar_type() << ", which needs " << expected;
    throw std::invalid_argument(m.str());
  }
  if (nbytes > 0) std::memcpy(t.data_ptr(), data, nbytes);
  return H(t);
  VT_CATCH(nullptr)
}
vt_tensor vt_scalar_tensor(vt_scalar v, int32_t d) {
  VT_HANDLE(at::scalar_tensor(S(v), at::TensorOptions().dtype(dtype(d))))
}

// MARK: properties
int64_t vt_dim(vt_tensor t) { return T(t).dim(); }
int vt_shape(vt_tensor t, int64_t *out, size_t cap) {
  VT_STATUS(auto s = T(t).sizes(); for (size_t i = 0; i < s.size() && i < cap; ++i) out[i] = s[i])
}
int vt_strides(vt_tensor t, int64_t *out, size_t cap) {
  VT_STATUS(auto s = T(t).strides(); for (size_t i = 0; i < s.size() && i < cap; ++i) out[i] = s[i])
}
int32_t vt_dtype(vt_tensor t) { return static_cast<int32_t>(T(t).scalar_type()); }
int32_t vt_device_type(vt_tensor t) { return T(t).device().is_cuda() ? VT_CUDA : VT_CPU; }
int32_t vt_device_index(vt_tensor t) { return T(t).device().index(); }
int64_t vt_numel(vt_tensor t) { return T(t).numel(); }
bool vt_is_contiguous(vt_tensor t) { return T(t).is_contiguous(); }

int vt_copy_to(vt_tensor t, void *out, size_t nbytes) {
  VT_TRY
  auto c = T(t).detach().to(at::kCPU).contiguous();
  size_t have = static_cast<size_t>(c.numel()) * c.element_size();
  if (have != nbytes) {
    std::ostringstream m;
    m << "copy_to: tensor of shape " << c.sizes() << " holds " << have << " bytes, buffer has " << nbytes;
    throw std::invalid_argument(m.str());
  }
  if (have > 0) std::memcpy(out, c.data_ptr(), have);
  return 0;
  VT_CATCH(1)
}
int vt_item(vt_tensor t, double *out) { VT_STATUS(*out = T(t).item<double>()) }
int vt_item_int(vt_tensor t, int64_t *out) { VT_STATUS(*out = T(t).item<int64_t>()) }
const void *vt_data_ptr(vt_tensor t) {
  VT_TRY return T(t).data_ptr();
  VT_CATCH(nullptr)
}
vt_tensor vt_to(vt_tensor t, int32_t d, int32_t dev, int32_t i, bool copy) {
  VT_HANDLE(T(t).to(options(d < 0 ? static_cast<int32_t>(T(t).scalar_type()) : d, dev, i), false, copy))
}
vt_tensor vt_contiguous(vt_tensor t) { VT_HANDLE(T(t).contiguous()) }
vt_tensor vt_clone(vt_tensor t) { VT_HANDLE(T(t).clone()) }
vt_tensor vt_shallow_copy(vt_tensor t) { VT_HANDLE(T(t)) }
int vt_describe(vt_tensor t, char *out, size_t cap) {
  VT_TRY
  std::ostringstream m;
  m << T(t);
  auto s = m.str();
  std::strncpy(out, s.c_str(), cap);
  if (cap > 0) out[cap - 1] = 0;
  return 0;
  VT_CATCH(1)
}

// MARK: autograd
int vt_set_requires_grad(vt_tensor t, bool value) { VT_STATUS(T(t).set_requires_grad(value)) }
bool vt_requires_grad(vt_tensor t) { return T(t).requires_grad(); }
bool vt_is_leaf(vt_tensor t) { return T(t).is_leaf(); }
vt_tensor vt_grad(vt_tensor t) {
  VT_TRY
  const auto &g = T(t).grad();
  return g.defined() ? H(g) : nullptr;
  VT_CATCH(nullptr)
}
int vt_zero_grad(vt_tensor t) { VT_STATUS(T(t).mutable_grad().reset()) }
int vt_set_grad(vt_tensor t, vt_tensor g) {
  VT_STATUS(if (g == nullptr) T(t).mutable_grad().reset(); else T(t).mutable_grad() = T(g))
}
int vt_backward(vt_tensor t, vt_tensor grad, bool retain_graph, bool create_graph) {
  VT_STATUS(T(t).backward(grad ? T(grad) : at::Tensor(), retain_graph, create_graph))
}
int vt_autograd_grad(const vt_tensor *outputs, size_t n_out, const vt_tensor *grad_outputs,
                     const vt_tensor *inputs, size_t n_in, bool retain_graph, bool create_graph,
                     vt_tensor *result) {
  VT_TRY
  std::vector<at::Tensor> grads;
  if (grad_outputs != nullptr) grads = tensors(grad_outputs, n_out);
  auto out = torch::autograd::grad(tensors(outputs, n_out), tensors(inputs, n_in), grads, retain_graph,
                                   create_graph, /*allow_unused=*/true);
  for (size_t i = 0; i < n_in; ++i) result[i] = out[i].defined() ? H(out[i]) : nullptr;
  return 0;
  VT_CATCH(1)
}
vt_tensor vt_detach(vt_tensor t) { VT_HANDLE(T(t).detach()) }
int vt_set_data(vt_tensor t, vt_tensor source) { VT_STATUS(T(t).set_data(T(source))) }
bool vt_grad_enabled(void) { return at::GradMode::is_enabled(); }
void vt_set_grad_enabled(bool enabled) { at::GradMode::set_enabled(enabled); }
vt_guard vt_inference_mode_enter(void) {
  VT_TRY return reinterpret_cast<vt_guard>(new c10::InferenceMode());
  VT_CATCH(nullptr)
}
void vt_inference_mode_exit(vt_guard g) { delete reinterpret_cast<c10::InferenceMode *>(g); }

}  // extern "C"
