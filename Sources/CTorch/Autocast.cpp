// Mixed precision: libtorch's autocast turned on and off for a region, and the fp32 policy the
// shim's own kernels apply under it.
#include <ATen/autocast_mode.h>
#include <torch/csrc/api/include/torch/version.h>

#include "Support.h"

using namespace ctorch;

namespace ctorch {

// libtorch 2.4 replaced the per-device setters by ones taking the device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocast_enabled(at::DeviceType type) { return at::autocast::is_autocast_enabled(type); }
at::ScalarType autocast_dtype(at::DeviceType type) { return at::autocast::get_autocast_dtype(type); }
void set_autocast(at::DeviceType type, bool enabled, at::ScalarType dtype) {
  at::autocast::set_autocast_enabled(type, enabled);
  at::autocast::set_autocast_dtype(type, dtype);
}
#else
bool autocast_enabled(at::DeviceType type) {
  return type == at::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
at::ScalarType autocast_dtype(at::DeviceType type) {
  return type == at::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_autocast(at::DeviceType type, bool enabled, at::ScalarType dtype) {
  if (type == at::kCUDA) {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
}
#endif

at::Tensor autocast_fp32(const at::Tensor &x) {
  const auto type = x.scalar_type();
  if ((type != at::kBFloat16 && type != at::kHalf) || !autocast_enabled(x.device().type())) return x;
  return x.to(at::kFloat);
}

}  // namespace ctorch

namespace {

/// The setting a region replaced, restored when it ends.
struct AutocastRegion {
  at::DeviceType type;
  bool was_enabled;
  at::ScalarType previous_dtype;
};

at::DeviceType device_type(int32_t type) { return type == VT_CUDA ? at::kCUDA : at::kCPU; }

}  // namespace

extern "C" {

vt_guard vt_autocast_enter(int32_t device, int32_t dtype) {
  VT_TRY
  const auto type = device_type(device);
  const auto lower = ctorch::dtype(dtype);
  if (lower != at::kBFloat16 && lower != at::kHalf) {
    throw std::invalid_argument("autocast takes bfloat16 or float16, not " + std::string(c10::toString(lower)));
  }
  if (type == at::kCPU && lower != at::kBFloat16) {
    throw std::invalid_argument("autocast on the CPU takes bfloat16 only (float16 needs CUDA)");
  }
  auto *region = new AutocastRegion{type, autocast_enabled(type), autocast_dtype(type)};
  set_autocast(type, true, lower);
  at::autocast::increment_nesting();
  return reinterpret_cast<vt_guard>(region);
  VT_CATCH(nullptr)
}

void vt_autocast_exit(vt_guard g) {
  auto *region = reinterpret_cast<AutocastRegion *>(g);
  if (region == nullptr) return;
  // Cast weights are cached for the outermost region only; dropping them frees the copies.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast(region->type, region->was_enabled, region->previous_dtype);
  delete region;
}

bool vt_autocast_enabled(int32_t device) { return autocast_enabled(device_type(device)); }

}  // extern "C"
