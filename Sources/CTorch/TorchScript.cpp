// The tensors of a TorchScript archive (`torch.jit.save`, OpenAI CLIP's released `ViT-B-32.pt`),
// read through libtorch's own loader. Unlike torch.save files, such an archive's pickles name
// TorchScript classes (`__torch__.…`) that only libtorch's deserializer can rebuild, so the
// restricted unpickler refuses them; torch::jit::load never runs Python, only the archive's
// TorchScript (its `__setstate__` methods, if any).
#include <torch/csrc/jit/serialization/import.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "Support.h"

extern "C" {

int vt_torchscript_state(const char *path, char ***names, vt_tensor **tensors, size_t *count) {
  VT_TRY
  auto module = torch::jit::load(std::string(path), c10::Device(c10::kCPU));
  // Parameters then buffers, recursively, under dotted names: what Python's state_dict() lists
  // (plus buffers registered as non-persistent, which TorchScript does not mark).
  std::vector<std::string> keys;
  std::vector<at::Tensor> values;
  for (const auto &entry : module.named_parameters(/*recurse=*/true)) {
    keys.push_back(entry.name);
    values.push_back(entry.value.detach());
  }
  for (const auto &entry : module.named_buffers(/*recurse=*/true)) {
    keys.push_back(entry.name);
    values.push_back(entry.value.detach());
  }
  auto **list = static_cast<char **>(calloc(keys.size() + 1, sizeof(char *)));
  if (list == nullptr) throw std::bad_alloc();
  for (size_t i = 0; i < keys.size(); ++i) {
    list[i] = strdup(keys[i].c_str());
    if (list[i] == nullptr) {
      vt_free_names(list);
      throw std::bad_alloc();
    }
  }
  *tensors = ctorch::handle_list(values);
  *names = list;
  *count = keys.size();
  return 0;
  VT_CATCH(1)
}

void vt_free_names(char **names) {
  if (names == nullptr) return;
  for (char **p = names; *p != nullptr; ++p) free(*p);
  free(names);
}

}  // extern "C"
