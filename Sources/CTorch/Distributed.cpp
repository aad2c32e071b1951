// c10d process groups (Gloo on CPU; NCCL when built against a CUDA libtorch with
// VLP_WITH_NCCL) and collectives with timeouts, and an all-gather that autograd differentiates:
// the engine PyTorch's DDP runs on, with no collectives of our own.
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/api/include/torch/version.h>

#ifdef VLP_WITH_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <chrono>
#include <map>
#include <mutex>

#include "Support.h"

using namespace ctorch;

namespace {

// The type Gloo and NCCL groups share: 1.x's ProcessGroup; 2.x's Backend (ProcessGroup became a
// wrapper that dispatches to backends).
#if TORCH_VERSION_MAJOR >= 2
using Collectives = ::c10d::Backend;
#else
using Collectives = ::c10d::ProcessGroup;
#endif

struct Group {
  c10::intrusive_ptr<::c10d::Store> store;
  c10::intrusive_ptr<Collectives> group;
  int rank;
  int size;
};

Group &G(vt_process_group g) {
  if (g == nullptr) throw std::invalid_argument("null process group");
  return *reinterpret_cast<Group *>(g);
}

std::chrono::milliseconds ms(int64_t timeout) { return std::chrono::milliseconds(timeout); }

void wait(const c10::intrusive_ptr<::c10d::Work> &work, int64_t timeout, const char *what) {
  if (!work->wait(ms(timeout))) throw std::runtime_error(std::string(what) + " did not complete");
}

at::Tensor gather(Group &g, const at::Tensor &t, int64_t timeout) {
  auto input = t.contiguous();
  std::vector<at::Tensor> inputs{input};
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int r = 0; r < g.size; ++r) outputs[0].push_back(at::empty_like(input));
  wait(g.group->allgather(outputs, inputs), timeout, "all_gather");
  return at::cat(outputs[0], 0);
}

// Forward: all-gather. Backward: every rank's loss depends on every slice, so the gradients
// are summed across ranks and this rank keeps its own slice.
struct AllGatherWithGrad : public torch::autograd::Function<AllGatherWithGrad> {
  static at::Tensor forward(torch::autograd::AutogradContext *ctx, at::Tensor input, int64_t group, int64_t timeout) {
    ctx->saved_data["group"] = group;
    ctx->saved_data["timeout"] = timeout;
    ctx->saved_data["rows"] = input.size(0);
    auto &g = *reinterpret_cast<Group *>(group);
    return gather(g, input.detach(), timeout);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    auto &g = *reinterpret_cast<Group *>(ctx->saved_data["group"].toInt());
    auto timeout = ctx->saved_data["timeout"].toInt();
    auto rows = ctx->saved_data["rows"].toInt();
    std::vector<at::Tensor> summed{grads[0].contiguous().clone()};
    wait(g.group->allreduce(summed), timeout, "all_reduce of the all_gather gradient");
    return {summed[0].narrow(0, g.rank * rows, rows), at::Tensor(), at::Tensor()};
  }
};

// Gradient averaging for data-parallel training, as c10d's DDP Reducer does it: parameters in
// buckets of about bucket_cap bytes (reverse registration order, one dtype per bucket, since
// gradients arrive roughly from the last layer back); a post-hook on every parameter's
// AccumulateGrad node marks it ready during backward, and a bucket whose parameters are all
// ready is flattened and its all-reduce started (asynchronously, on Gloo's threads) while
// backward goes on. Buckets are started strictly in index order so that every rank issues the
// same sequence of collectives. synchronize() starts whatever is left (parameters that got no
// gradient contribute zeros), all-reduces a per-parameter "has a gradient" count, waits, divides
// by the world size and copies back.
struct Reducer {
  struct Bucket {
    std::vector<size_t> params;
    std::vector<int64_t> offsets;
    at::Tensor flat;
    size_t pending = 0;
    bool launched = false;
    c10::intrusive_ptr<::c10d::Work> work;
  };

  c10::intrusive_ptr<Collectives> group;
  int size;
  int rank;
  int64_t timeout;
  std::vector<at::Tensor> params;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators;  // kept alive: they carry the hooks
  std::vector<uintptr_t> hookKeys;
  std::vector<size_t> bucketOf;
  std::vector<char> ready;
  std::vector<float> hasGrad;
  std::vector<Bucket> buckets;
  size_t nextLaunch = 0;
  bool overlap = true;
  std::string hookError;
  int64_t launchedInBackward = 0;
  int64_t lastLaunchedInBackward = 0;
  double lastWaitSeconds = 0;
  std::mutex mutex;

  void resetStep() {
    std::fill(ready.begin(), ready.end(), 0);
    for (auto &b : buckets) {
      b.pending = b.params.size();
      b.launched = false;
      b.work.reset();
    }
    nextLaunch = 0;
    hookError.clear();
    launchedInBackward = 0;
  }

  void launch(Bucket &b) {
    at::NoGradGuard noGrad;
    for (size_t k = 0; k < b.params.size(); ++k) {
      auto i = b.params[k];
      auto slice = b.flat.narrow(0, b.offsets[k], params[i].numel());
      const auto &grad = params[i].grad();
      if (grad.defined()) {
        slice.copy_(grad.reshape(-1));
        hasGrad[i] = 1;
      } else {
        slice.zero_();
        hasGrad[i] = 0;
      }
    }
    std::vector<at::Tensor> tensors{b.flat};
    b.work = group->allreduce(tensors);
    b.launched = true;
  }

  // Called from the autograd engine after parameter i's gradient was accumulated.
  void markReady(size_t i) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!overlap || !hookError.empty()) return;
    auto &b = buckets[bucketOf[i]];
    if (ready[i]) {
      if (b.launched)
        hookError = "a parameter's gradient was accumulated twice before synchronizeGradients (run the extra "
                    "backward passes inside withoutGradientSynchronization)";
      return;
    }
    ready[i] = 1;
    b.pending -= 1;
    try {
      while (nextLaunch < buckets.size() && buckets[nextLaunch].pending == 0) {
        launch(buckets[nextLaunch]);
        nextLaunch += 1;
        launchedInBackward += 1;
      }
    } catch (const c10::Error &e) {
      hookError = e.what_without_backtrace();
    } catch (const std::exception &e) {
      hookError = e.what();
    }
  }

  void synchronize() {
    std::lock_guard<std::mutex> lock(mutex);
    struct Reset {
      Reducer *r;
      ~Reset() { r->resetStep(); }
    } reset{this};
    if (!hookError.empty()) throw std::runtime_error(hookError);
    lastLaunchedInBackward = launchedInBackward;
    while (nextLaunch < buckets.size()) launch(buckets[nextLaunch++]);
    // On the parameters' device: NCCL reduces CUDA tensors only.
    auto counts = at::from_blob(hasGrad.data(), {static_cast<int64_t>(hasGrad.size())}, at::kFloat)
                      .to(params.empty() ? at::Device(at::kCPU) : params.front().device(), false, true);
    std::vector<at::Tensor> countTensors{counts};
    auto start = std::chrono::steady_clock::now();
    auto countWork = group->allreduce(countTensors);
    for (auto &b : buckets) wait(b.work, timeout, "all_reduce of a gradient bucket");
    wait(countWork, timeout, "all_reduce of the gradient counts");
    auto countsHere = counts.cpu();
    lastWaitSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    at::NoGradGuard noGrad;
    auto count = countsHere.accessor<float, 1>();
    for (auto &b : buckets) {
      b.flat.div_(size);
      for (size_t k = 0; k < b.params.size(); ++k) {
        auto i = b.params[k];
        if (count[i] == 0) continue;  // no rank produced a gradient: leave it undefined everywhere
        auto &p = params[i];
        auto averaged = b.flat.narrow(0, b.offsets[k], p.numel()).view(p.sizes());
        if (p.grad().defined()) {
          p.mutable_grad().copy_(averaged);
        } else {
          p.mutable_grad() = averaged.clone();
        }
      }
    }
  }
};

struct ReadyHook : public torch::autograd::FunctionPostHook {
  Reducer *reducer;
  size_t index;
  ReadyHook(Reducer *r, size_t i) : reducer(r), index(i) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list &outputs,
                                            const torch::autograd::variable_list &) override {
    reducer->markReady(index);
    return outputs;
  }
};

Reducer &R(vt_reducer r) {
  if (r == nullptr) throw std::invalid_argument("null reducer");
  return *reinterpret_cast<Reducer *>(r);
}

}  // namespace

extern "C" {

bool vt_nccl_is_compiled(void) {
#ifdef VLP_WITH_NCCL
  return true;
#else
  return false;
#endif
}

vt_process_group vt_process_group_new(int32_t backend, const char *master_addr, int32_t port, int32_t rank,
                                      int32_t world_size, int32_t device_index, int64_t timeout_ms) {
  VT_TRY
  if (backend != 0 && backend != 1) throw std::invalid_argument("unknown backend " + std::to_string(backend));
#ifndef VLP_WITH_NCCL
  if (backend == 1)
    throw std::runtime_error("the NCCL backend is not compiled in: build swift-vlp against a libtorch with CUDA and "
                             "VLP_WITH_NCCL=1 (README, \"Building against another libtorch\"), or use Gloo");
#else
  if (backend == 1) {
    int32_t visible = at::hasCUDA() ? static_cast<int32_t>(c10::cuda::device_count()) : 0;
    if (visible == 0) throw std::runtime_error("the NCCL backend needs a CUDA device; libtorch sees none");
    if (device_index < 0 || device_index >= visible)
      throw std::invalid_argument("CUDA device " + std::to_string(device_index) + " does not exist (" +
                                  std::to_string(visible) + " visible)");
    // Each rank drives its own GPU; collectives run on the current device's streams.
    c10::cuda::set_device(static_cast<c10::DeviceIndex>(device_index));
  }
#endif
  ::c10d::TCPStoreOptions storeOptions;
  storeOptions.port = static_cast<uint16_t>(port);
  storeOptions.isServer = rank == 0;
  storeOptions.numWorkers = world_size;
  storeOptions.waitWorkers = true;
  storeOptions.timeout = ms(timeout_ms);
  auto store = c10::make_intrusive<::c10d::TCPStore>(std::string(master_addr), storeOptions);
  c10::intrusive_ptr<Collectives> group;
#ifdef VLP_WITH_NCCL
  if (backend == 1) {
    auto options = ::c10d::ProcessGroupNCCL::Options::create();
    options->timeout = ms(timeout_ms);
    group = c10::make_intrusive<::c10d::ProcessGroupNCCL>(store, rank, world_size, options);
  }
#endif
  if (backend == 0) {
    auto options = ::c10d::ProcessGroupGloo::Options::create(ms(timeout_ms));
    std::string host(master_addr);
    bool local = host == "127.0.0.1" || host == "localhost" || host == "::1";
    options->devices.push_back(local ? ::c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                     : ::c10d::ProcessGroupGloo::createDefaultDevice());
    group = c10::make_intrusive<::c10d::ProcessGroupGloo>(store, rank, world_size, options);
  }
  return reinterpret_cast<vt_process_group>(new Group{store, group, rank, world_size});
  VT_CATCH(nullptr)
}

void vt_process_group_free(vt_process_group group) {
  try {
#if TORCH_VERSION_MAJOR >= 2
    // 2.x backends (NCCL's watchdog and communicators) expect an orderly shutdown first.
    if (group != nullptr) reinterpret_cast<Group *>(group)->group->shutdown();
#endif
  } catch (...) {
  }
  try {
    delete reinterpret_cast<Group *>(group);
  } catch (...) {
  }
}

int vt_all_reduce(vt_process_group group, vt_tensor t, int32_t op, int64_t timeout_ms) {
  VT_TRY
  auto &g = G(group);
  ::c10d::AllreduceOptions reduce;
  reduce.reduceOp = op == 2 ? ::c10d::ReduceOp::MAX : op == 3 ? ::c10d::ReduceOp::MIN : ::c10d::ReduceOp::SUM;
  std::vector<at::Tensor> tensors{T(t)};
  wait(g.group->allreduce(tensors, reduce), timeout_ms, "all_reduce");
  if (op == 1) T(t).div_(g.size);
  return 0;
  VT_CATCH(1)
}

vt_tensor vt_all_gather(vt_process_group group, vt_tensor t, int64_t timeout_ms) {
  VT_HANDLE(gather(G(group), T(t), timeout_ms))
}

vt_tensor vt_all_gather_with_grad(vt_process_group group, vt_tensor t, int64_t timeout_ms) {
  VT_TRY
  G(group);
  return H(AllGatherWithGrad::apply(T(t), reinterpret_cast<int64_t>(group), timeout_ms));
  VT_CATCH(nullptr)
}

int vt_broadcast(vt_process_group group, vt_tensor t, int32_t root, int64_t timeout_ms) {
  VT_TRY
  ::c10d::BroadcastOptions from;
  from.rootRank = root;
  std::vector<at::Tensor> tensors{T(t)};
  wait(G(group).group->broadcast(tensors, from), timeout_ms, "broadcast");
  return 0;
  VT_CATCH(1)
}

int vt_barrier(vt_process_group group, int64_t timeout_ms) {
  VT_TRY
  wait(G(group).group->barrier(), timeout_ms, "barrier");
  return 0;
  VT_CATCH(1)
}

vt_reducer vt_reducer_new(vt_process_group group, const vt_tensor *params, size_t n, int64_t bucket_cap_bytes,
                          int32_t overlap, int64_t timeout_ms) {
  VT_TRY
  auto &g = G(group);
  auto r = std::make_unique<Reducer>();
  r->group = g.group;
  r->size = g.size;
  r->rank = g.rank;
  r->timeout = timeout_ms;
  r->overlap = overlap != 0;
  r->params = tensors(params, n);
  r->bucketOf.assign(n, 0);
  r->ready.assign(n, 0);
  r->hasGrad.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (!r->params[i].requires_grad() || !r->params[i].is_leaf())
      throw std::invalid_argument("parameter " + std::to_string(i) + " is not a leaf tensor requiring grad");
  }
  // Buckets in reverse order, one dtype and device each, closed when the cap is reached.
  int64_t bytes = 0;
  for (size_t j = n; j-- > 0;) {
    const auto &p = r->params[j];
    bool fresh = r->buckets.empty() || bytes >= bucket_cap_bytes ||
                 r->params[r->buckets.back().params.front()].scalar_type() != p.scalar_type() ||
                 r->params[r->buckets.back().params.front()].device() != p.device();
    if (fresh) {
      r->buckets.emplace_back();
      bytes = 0;
    }
    auto &b = r->buckets.back();
    b.offsets.push_back(b.params.empty() ? 0 : b.offsets.back() + r->params[b.params.back()].numel());
    b.params.push_back(j);
    r->bucketOf[j] = r->buckets.size() - 1;
    bytes += p.numel() * static_cast<int64_t>(p.element_size());
  }
  for (auto &b : r->buckets) {
    auto &last = r->params[b.params.back()];
    b.flat = at::empty({b.offsets.back() + last.numel()}, last.options().requires_grad(false));
  }
  r->resetStep();
  for (size_t i = 0; i < n; ++i) {
    auto accumulator = torch::autograd::impl::grad_accumulator(r->params[i]);
    if (!accumulator) throw std::runtime_error("parameter " + std::to_string(i) + " has no gradient accumulator");
    r->hookKeys.push_back(accumulator->add_post_hook(std::make_unique<ReadyHook>(r.get(), i)));
    r->accumulators.push_back(std::move(accumulator));
  }
  return reinterpret_cast<vt_reducer>(r.release());
  VT_CATCH(nullptr)
}

void vt_reducer_free(vt_reducer reducer) {
  try {
    auto *r = reinterpret_cast<Reducer *>(reducer);
    if (r == nullptr) return;
    for (size_t i = 0; i < r->accumulators.size(); ++i) r->accumulators[i]->del_post_hook(r->hookKeys[i]);
    // Outstanding collectives hold the flat buffers; let them finish or fail before freeing.
    for (auto &b : r->buckets)
      if (b.work) b.work->wait(ms(r->timeout));
    delete r;
  } catch (...) {
  }
}

int vt_reducer_set_overlap(vt_reducer reducer, int32_t enabled) {
  VT_TRY
  auto &r = R(reducer);
  std::lock_guard<std::mutex> lock(r.mutex);
  r.overlap = enabled != 0;
  return 0;
  VT_CATCH(1)
}

int vt_reducer_synchronize(vt_reducer reducer) {
  VT_STATUS(R(reducer).synchronize())
}

int vt_reducer_stats(vt_reducer reducer, int64_t *bucket_count, int64_t *launched_in_backward, double *wait_seconds) {
  VT_TRY
  auto &r = R(reducer);
  std::lock_guard<std::mutex> lock(r.mutex);
  if (bucket_count) *bucket_count = static_cast<int64_t>(r.buckets.size());
  if (launched_in_backward) *launched_in_backward = r.lastLaunchedInBackward;
  if (wait_seconds) *wait_seconds = r.lastWaitSeconds;
  return 0;
  VT_CATCH(1)
}

int vt_broadcast_coalesced(vt_process_group group, const vt_tensor *ts, size_t n, int32_t root, int64_t timeout_ms) {
  VT_TRY
  auto &g = G(group);
  auto all = tensors(ts, n);
  at::NoGradGuard noGrad;
  // One flat broadcast per dtype and device.
  std::map<std::pair<int, std::string>, std::vector<at::Tensor>> groups;
  for (auto &t : all) groups[{static_cast<int>(t.scalar_type()), t.device().str()}].push_back(t);
  for (auto &entry : groups) {
    auto &members = entry.second;
    std::vector<at::Tensor> pieces;
    for (auto &t : members) pieces.push_back(t.detach().reshape(-1));
    auto flat = at::cat(pieces).contiguous();
    ::c10d::BroadcastOptions from;
    from.rootRank = root;
    std::vector<at::Tensor> buffer{flat};
    wait(g.group->broadcast(buffer, from), timeout_ms, "broadcast of parameters and buffers");
    int64_t offset = 0;
    for (auto &t : members) {
      t.detach().copy_(flat.narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }
  return 0;
  VT_CATCH(1)
}

}  // extern "C"
