// Activation checkpointing (torch.utils.checkpoint, the re-entrant kind): a block runs without
// keeping its activations; during backward it runs again, from its saved inputs and with the
// random generators and autocast as they were, and that second graph gives the gradients.
#include <ATen/core/ivalue.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cstdlib>

#include "Support.h"

using namespace ctorch;

namespace {

/// The caller's block and its context, released when the autograd node that holds it goes.
struct Block : torch::CustomClassHolder {
  vt_checkpoint_body body;
  void *context;
  void (*release)(void *);

  Block(vt_checkpoint_body body, void *context, void (*release)(void *)) : body(body), context(context), release(release) {}
  ~Block() override {
    if (release != nullptr) release(context);
  }

  /// Runs the caller's block; its error (set through vt_set_error) becomes an exception here.
  std::vector<at::Tensor> run(const std::vector<at::Tensor> &inputs) const {
    std::vector<vt_tensor> handles;
    handles.reserve(inputs.size());
    for (const auto &t : inputs) handles.push_back(H(t));
    vt_tensor *outputs = body(context, handles.data(), handles.size());
    if (outputs == nullptr) throw std::runtime_error(vt_last_error());
    std::vector<at::Tensor> result;
    for (vt_tensor *h = outputs; *h != nullptr; ++h) {
      result.push_back(T(*h));
      vt_free(*h);
    }
    std::free(outputs);
    return result;
  }
};

/// The generator states of the devices a block runs on, to replay its dropout masks.
struct GeneratorStates {
  std::vector<std::pair<at::Generator, at::Tensor>> states;

  static GeneratorStates capture(const std::vector<at::Tensor> &inputs) {
    GeneratorStates s;
    std::vector<at::Device> devices{at::Device(at::kCPU)};
    for (const auto &t : inputs) {
      if (t.defined() && t.is_cuda() && std::find(devices.begin(), devices.end(), t.device()) == devices.end()) {
        devices.push_back(t.device());
      }
    }
    for (const auto &device : devices) {
      auto generator = at::globalContext().defaultGenerator(device);
      std::lock_guard<std::mutex> lock(generator.mutex());
      s.states.emplace_back(generator, generator.get_state());
    }
    return s;
  }

  void restore() const {
    for (const auto &[generator, state] : states) {
      auto g = generator;
      std::lock_guard<std::mutex> lock(g.mutex());
      g.set_state(state);
    }
  }
};

/// Autocast as it was during the forward, per device type.
struct AutocastState {
  bool cpu, cuda;
  at::ScalarType cpu_dtype, cuda_dtype;

  static AutocastState capture() {
    return {autocast_enabled(at::kCPU), autocast_enabled(at::kCUDA), autocast_dtype(at::kCPU), autocast_dtype(at::kCUDA)};
  }
  void apply() const {
    set_autocast(at::kCPU, cpu, cpu_dtype);
    set_autocast(at::kCUDA, cuda, cuda_dtype);
  }
};

/// Holds what the recomputation needs besides the saved inputs.
struct Replay : torch::CustomClassHolder {
  c10::intrusive_ptr<Block> block;
  GeneratorStates generators;
  AutocastState autocast;
};

struct CheckpointFunction : public torch::autograd::Function<CheckpointFunction> {
  // The inputs come as a TensorList: Function::apply counts a TensorList's tensors as inputs of
  // the node, but not a std::vector's.
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext *ctx, c10::intrusive_ptr<Block> block,
                                               at::TensorList input_list) {
    std::vector<at::Tensor> inputs(input_list.begin(), input_list.end());
    auto replay = c10::make_intrusive<Replay>();
    replay->block = block;
    replay->generators = GeneratorStates::capture(inputs);
    replay->autocast = AutocastState::capture();
    ctx->save_for_backward(inputs);
    ctx->saved_data["replay"] = at::IValue::make_capsule(replay);
    // Function::apply runs this without grad: nothing of the block is recorded.
    return block->run(inputs);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                torch::autograd::variable_list grad_outputs) {
    auto replay = c10::static_intrusive_pointer_cast<Replay>(ctx->saved_data["replay"].toCapsule());
    auto saved = ctx->get_saved_variables();
    std::vector<at::Tensor> inputs;
    inputs.reserve(saved.size());
    for (const auto &t : saved) {
      auto leaf = t.detach();
      if (t.requires_grad()) leaf.requires_grad_(true);
      inputs.push_back(leaf);
    }
    // Replay with the forward's generator states and autocast, then put back the current ones.
    auto current_generators = GeneratorStates::capture(saved);
    auto current_autocast = AutocastState::capture();
    std::vector<at::Tensor> outputs;
    try {
      replay->generators.restore();
      replay->autocast.apply();
      at::AutoGradMode enable(true);
      outputs = replay->block->run(inputs);
    } catch (...) {
      current_generators.restore();
      current_autocast.apply();
      throw;
    }
    current_generators.restore();
    current_autocast.apply();
    if (outputs.size() != grad_outputs.size()) {
      throw std::runtime_error("checkpointed block gave " + std::to_string(outputs.size()) + " outputs on recomputation, " +
                               std::to_string(grad_outputs.size()) + " the first time");
    }
    std::vector<at::Tensor> differentiable, gradients;
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (outputs[i].requires_grad() && grad_outputs[i].defined()) {
        differentiable.push_back(outputs[i]);
        gradients.push_back(grad_outputs[i]);
      }
    }
    if (!differentiable.empty()) torch::autograd::backward(differentiable, gradients);
    torch::autograd::variable_list result{at::Tensor()};  // the block argument has no gradient
    for (const auto &t : inputs) result.push_back(t.requires_grad() ? t.grad() : at::Tensor());
    return result;
  }
};

}  // namespace

extern "C" {

vt_tensor *vt_checkpoint(vt_checkpoint_body body, void *context, void (*release)(void *), const vt_tensor *inputs,
                         size_t n) {
  // Owned from here on, also when this call fails.
  auto block = c10::make_intrusive<Block>(body, context, release);
  VT_TRY
  auto list = tensors(inputs, n);
  // A block whose inputs need no gradient (it follows frozen layers) would get no node, and its
  // own parameters no gradients: an input that requires grad keeps it in the graph.
  list.push_back(at::zeros({}, at::TensorOptions().dtype(at::kFloat)).requires_grad_(true));
  auto outputs = CheckpointFunction::apply(block, at::TensorList(list));
  return handle_list(outputs);
  VT_CATCH(nullptr)
}

void vt_set_error(const char *message) { ctorch::set_error(message); }

}  // extern "C"
