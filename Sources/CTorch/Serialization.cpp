// Reading zip-format PyTorch files (torch.save since 1.6) through libtorch's own unpickler.
#include <torch/csrc/jit/serialization/pickle.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "Support.h"

using namespace ctorch;

namespace {

// Flattens nested dicts into dotted names; non-tensor leaves (epoch counters, strings) are
// skipped, as a state dict's consumer only wants tensors.
void flatten(const c10::IValue &value, const std::string &prefix, std::vector<std::string> &names,
             std::vector<at::Tensor> &out) {
  if (value.isTensor()) {
    names.push_back(prefix);
    out.push_back(value.toTensor());
  } else if (value.isGenericDict()) {
    for (const auto &entry : value.toGenericDict()) {
      std::string key = entry.key().isString() ? entry.key().toStringRef() : entry.key().tagKind();
      flatten(entry.value(), prefix.empty() ? key : prefix + "." + key, names, out);
    }
  }
}

}  // namespace

extern "C" {

int vt_load_pickled_state_dict(const char *path, char ***names_out, vt_tensor **tensors_out, size_t *n) {
  VT_TRY
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error(std::string("cannot open ") + path);
  std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  auto value = torch::jit::pickle_load(bytes);
  std::vector<std::string> names;
  std::vector<at::Tensor> ts;
  flatten(value, "", names, ts);
  auto **list = static_cast<char **>(malloc(sizeof(char *) * (names.size() + 1)));
  if (list == nullptr) throw std::bad_alloc();
  for (size_t i = 0; i < names.size(); ++i) list[i] = strdup(names[i].c_str());
  list[names.size()] = nullptr;
  *names_out = list;
  *tensors_out = handle_list(ts);
  *n = names.size();
  return 0;
  VT_CATCH(1)
}

void vt_free_names(char **names, size_t n) {
  if (names == nullptr) return;
  for (size_t i = 0; i < n; ++i) free(names[i]);
  free(names);
}

}  // extern "C"
