// c10d process groups (Gloo) and collectives with timeouts, and an all-gather that autograd
// differentiates: the engine PyTorch's DDP runs on, with no collectives of our own.
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>

#include "Support.h"

using namespace ctorch;

namespace {

struct Group {
  c10::intrusive_ptr<::c10d::Store> store;
  c10::intrusive_ptr<::c10d::ProcessGroupGloo> group;
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

}  // namespace

extern "C" {

vt_process_group vt_process_group_gloo(const char *master_addr, int32_t port, int32_t rank, int32_t world_size,
                                       int64_t timeout_ms) {
  VT_TRY
  ::c10d::TCPStoreOptions storeOptions;
  storeOptions.port = static_cast<uint16_t>(port);
  storeOptions.isServer = rank == 0;
  storeOptions.numWorkers = world_size;
  storeOptions.waitWorkers = true;
  storeOptions.timeout = ms(timeout_ms);
  auto store = c10::make_intrusive<::c10d::TCPStore>(std::string(master_addr), storeOptions);
  auto groupOptions = ::c10d::ProcessGroupGloo::Options::create(ms(timeout_ms));
  std::string host(master_addr);
  bool local = host == "127.0.0.1" || host == "localhost" || host == "::1";
  groupOptions->devices.push_back(local ? ::c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                        : ::c10d::ProcessGroupGloo::createDefaultDevice());
  auto group = c10::make_intrusive<::c10d::ProcessGroupGloo>(store, rank, world_size, groupOptions);
  return reinterpret_cast<vt_process_group>(new Group{store, group, rank, world_size});
  VT_CATCH(nullptr)
}

void vt_process_group_free(vt_process_group group) {
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

}  // extern "C"
