// Matrix products for inference on the CPU, split across libtorch's intra-op pool.
//
// libtorch's intra-op pool (OpenMP) and OpenBLAS's own threads are two pools over the same cores:
// while one computes, the other's threads spin (libgomp) or yield (OpenBLAS). On the 2-core
// machine a quarter of a ViT-B/16 forward's cycles went to that (README, "Threads"), which is why
// the BLAS is kept single-threaded. Without autograd, a large product here is cut instead into
// row blocks (linear) or batch blocks (bmm), one per intra-op thread, each a single-threaded BLAS
// call, so one pool does all the work. Any other case takes libtorch's own path.
//
// The pool is libgomp's, entered through its ABI (`GOMP_parallel`, what `#pragma omp parallel`
// compiles to), since this target is not compiled with -fopenmp and `at::parallel_for` is a
// header template that would run serially here. Without libgomp (another OpenMP runtime or
// libtorch's native pool) the products take libtorch's path.
#include <dlfcn.h>

#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>
#include <c10/core/GradMode.h>

#include "Support.h"

namespace ctorch {

namespace {

using OmpBody = void (*)(void *);
struct GOMP {
  void (*parallel)(OmpBody, void *, unsigned, unsigned) = nullptr;
  int (*thread_num)(void) = nullptr;
  int (*num_threads)(void) = nullptr;
  GOMP() {
    parallel = reinterpret_cast<decltype(parallel)>(dlsym(RTLD_DEFAULT, "GOMP_parallel"));
    thread_num = reinterpret_cast<decltype(thread_num)>(dlsym(RTLD_DEFAULT, "omp_get_thread_num"));
    num_threads = reinterpret_cast<decltype(num_threads)>(dlsym(RTLD_DEFAULT, "omp_get_num_threads"));
  }
  bool available() const { return parallel != nullptr && thread_num != nullptr && num_threads != nullptr; }
};
const GOMP &gomp() {
  static const GOMP shared;
  return shared;
}

// Runs body(begin, end) over [0, count) in one contiguous block per pool thread, each with the
// caller's thread-local state (grad mode, autocast). A C++ exception must not unwind through
// libgomp: the first one is kept and rethrown on the calling thread.
template <typename Body>
void on_pool(int64_t count, const Body &body) {
  struct Context {
    const Body *body;
    int64_t count;
    at::ThreadLocalState state;
    std::atomic_flag failed = ATOMIC_FLAG_INIT;
    std::exception_ptr error;
  } context{&body, count, at::ThreadLocalState()};
  auto run = [](void *raw) {
    auto *c = static_cast<Context *>(raw);
    const auto &g = gomp();
    const int64_t threads = g.num_threads(), index = g.thread_num();
    const int64_t block = (c->count + threads - 1) / threads;
    const int64_t begin = std::min(c->count, index * block), end = std::min(c->count, begin + block);
    if (begin >= end) return;
    at::internal::ThreadIdGuard guard(index);
    try {
      at::ThreadLocalStateGuard state(c->state);
      (*c->body)(begin, end);
    } catch (...) {
      if (!c->failed.test_and_set()) c->error = std::current_exception();
    }
  };
  const auto threads = static_cast<unsigned>(std::min<int64_t>(at::get_num_threads(), count));
  gomp().parallel(run, &context, threads, 0);
  if (context.error) std::rethrow_exception(context.error);
}

// Below this many multiply-adds a product is left to libtorch (the split's start-up would show).
constexpr double kPooledMinimumWork = 1 << 20;

int openblas_threads() {
  using getter = int (*)(void);
  static const auto get = reinterpret_cast<getter>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return get == nullptr ? -1 : get();
}

bool pooled(std::initializer_list<const at::Tensor *> operands, double work) {
  if (work < kPooledMinimumWork || at::get_num_threads() < 2 || at::in_parallel_region() || !gomp().available()) return false;
  // Concurrent calls into OpenBLAS are only safe, and only useful, when it runs single-threaded.
  if (openblas_threads() != 1 || autocast_enabled(at::kCPU)) return false;
  const bool grad = c10::GradMode::is_enabled();
  for (const auto *t : operands) {
    if (!t->defined()) continue;
    if (!t->device().is_cpu() || t->layout() != at::kStrided || t->scalar_type() != at::kFloat) return false;
    if (grad && t->requires_grad()) return false;
  }
  return true;
}

}  // namespace

at::Tensor pooled_linear(const at::Tensor &x, const at::Tensor &weight, const c10::optional<at::Tensor> &bias) {
  const at::Tensor none;
  const auto &b = bias.has_value() ? *bias : none;
  if (x.dim() < 2 || weight.dim() != 2 || x.size(-1) != weight.size(1) ||
      !pooled({&x, &weight, &b}, static_cast<double>(x.numel()) * weight.size(0))) {
    return at::linear(x, weight, bias);
  }
  const auto rows = x.numel() / x.size(-1);
  const auto flat = x.reshape({rows, x.size(-1)});
  const auto transposed = weight.t();
  auto out = at::empty({rows, weight.size(0)}, x.options());
  on_pool(rows, [&](int64_t begin, int64_t end) {
    auto part = out.narrow(0, begin, end - begin);
    const auto input = flat.narrow(0, begin, end - begin);
    if (b.defined()) {
      at::addmm_out(part, b, input, transposed);
    } else {
      at::mm_out(part, input, transposed);
    }
  });
  auto shape = x.sizes().vec();
  shape.back() = weight.size(0);
  return out.view(shape);
}

at::Tensor pooled_matmul(const at::Tensor &a, const at::Tensor &b) {
  // [..., L, d] × [..., d, S] with the same leading sizes: batch blocks of bmm.
  if (a.dim() < 3 || a.dim() != b.dim() || a.sizes().slice(0, a.dim() - 2) != b.sizes().slice(0, b.dim() - 2) ||
      a.size(-1) != b.size(-2) ||
      !pooled({&a, &b}, static_cast<double>(a.numel()) * b.size(-1))) {
    return at::matmul(a, b);
  }
  const auto leading = a.sizes().slice(0, a.dim() - 2).vec();
  const auto batch = c10::multiply_integers(leading);
  const auto left = a.reshape({batch, a.size(-2), a.size(-1)});
  const auto right = b.reshape({batch, b.size(-2), b.size(-1)});
  auto out = at::empty({batch, a.size(-2), b.size(-1)}, a.options());
  on_pool(batch, [&](int64_t begin, int64_t end) {
    auto part = out.narrow(0, begin, end - begin);
    at::bmm_out(part, left.narrow(0, begin, end - begin), right.narrow(0, begin, end - begin));
  });
  auto shape = leading;
  shape.push_back(a.size(-2));
  shape.push_back(b.size(-1));
  return out.view(shape);
}

}  // namespace ctorch
