// Records of zip-format PyTorch files, read through libtorch's PyTorchStreamReader. The pickle
// inside is decoded on the Swift side by a restricted unpickler: libtorch's own unpickler turns
// collections.OrderedDict (what every state_dict() is) into None.
#include <caffe2/serialize/inline_container.h>

#include <cstdlib>
#include <cstring>

#include "Support.h"

extern "C" {

vt_archive vt_archive_open(const char *path) {
  VT_TRY return reinterpret_cast<vt_archive>(new caffe2::serialize::PyTorchStreamReader(std::string(path)));
  VT_CATCH(nullptr)
}

void vt_archive_close(vt_archive archive) {
  delete reinterpret_cast<caffe2::serialize::PyTorchStreamReader *>(archive);
}

int vt_archive_read(vt_archive archive, const char *name, void **data, size_t *size) {
  VT_TRY
  auto *reader = reinterpret_cast<caffe2::serialize::PyTorchStreamReader *>(archive);
  if (!reader->hasRecord(name)) throw std::runtime_error(std::string("archive has no record ") + name);
  auto record = reader->getRecord(name);
  size_t n = std::get<1>(record);
  void *buffer = malloc(n > 0 ? n : 1);
  if (buffer == nullptr) throw std::bad_alloc();
  if (n > 0) std::memcpy(buffer, std::get<0>(record).get(), n);
  *data = buffer;
  *size = n;
  return 0;
  VT_CATCH(1)
}

int vt_archive_has_record(vt_archive archive, const char *name) {
  VT_TRY
  return reinterpret_cast<caffe2::serialize::PyTorchStreamReader *>(archive)->hasRecord(name) ? 1 : 0;
  VT_CATCH(-1)
}

}  // extern "C"
