// The CFaiss entry points. Every body runs inside VF_TRY … VF_CATCH so that FAISS's exceptions
// (and std::bad_alloc from a corrupt file's sizes) turn into a status and a message.
#include "cfaiss.h"

#include <faiss/AutoTune.h>
#include <faiss/Index.h>
#include <faiss/impl/FaissException.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

static_assert(std::is_same<faiss::Index::idx_t, int64_t>::value, "labels are passed as int64_t");

namespace {

thread_local std::string last_error;
thread_local bool has_error = false;

void set_error(const std::string &message) {
  last_error = message;
  has_error = true;
}

/// FAISS prefixes its messages with "Error in <signature> at <source file>:<line>: "; the
/// source path is FAISS's build tree, of no use to a caller, so only the reason is kept.
std::string reason(const faiss::FaissException &e) {
  const std::string &text = e.msg;
  if (text.rfind("Error in ", 0) == 0) {
    size_t at = text.find(" at ");
    size_t colon = at == std::string::npos ? at : text.find(": ", at);
    if (colon != std::string::npos) return text.substr(colon + 2);
  }
  return text;
}

faiss::Index &I(vf_index h) {
  if (h == nullptr) throw std::invalid_argument("null index handle");
  return *reinterpret_cast<faiss::Index *>(h);
}
vf_index H(faiss::Index *index) { return reinterpret_cast<vf_index>(index); }

void check_rows(int64_t n, const void *rows, const char *what) {
  if (n < 0) throw std::invalid_argument(std::string("negative number of ") + what);
  if (n > 0 && rows == nullptr) throw std::invalid_argument(std::string("null ") + what + " pointer");
}

struct FileCloser {
  void operator()(FILE *f) const { fclose(f); }
};

}  // namespace

#define VF_TRY try {
#define VF_CATCH(failure)                        \
  }                                              \
  catch (const faiss::FaissException &e) {       \
    set_error(reason(e));                        \
    return failure;                              \
  }                                              \
  catch (const std::exception &e) {              \
    set_error(e.what());                         \
    return failure;                              \
  }                                              \
  catch (...) {                                  \
    set_error("unknown C++ exception");          \
    return failure;                              \
  }

extern "C" {

const char *vf_last_error(void) { return has_error ? last_error.c_str() : nullptr; }
void vf_clear_error(void) {
  has_error = false;
  last_error.clear();
}

vf_index vf_index_create(const char *factory, int32_t dimension, int32_t metric) {
  VF_TRY
  if (factory == nullptr) throw std::invalid_argument("null factory string");
  if (dimension < 1) throw std::invalid_argument("dimension must be at least 1");
  if (metric != VF_METRIC_INNER_PRODUCT && metric != VF_METRIC_L2)
    throw std::invalid_argument("unsupported metric " + std::to_string(metric));
  return H(faiss::index_factory(dimension, factory, static_cast<faiss::MetricType>(metric)));
  VF_CATCH(nullptr)
}

void vf_index_free(vf_index index) { delete reinterpret_cast<faiss::Index *>(index); }

int32_t vf_index_dimension(vf_index index) { VF_TRY return I(index).d; VF_CATCH(-1) }
int32_t vf_index_metric(vf_index index) { VF_TRY return I(index).metric_type; VF_CATCH(-1) }
int64_t vf_index_count(vf_index index) { VF_TRY return I(index).ntotal; VF_CATCH(-1) }
bool vf_index_is_trained(vf_index index) { VF_TRY return I(index).is_trained; VF_CATCH(false) }

int vf_index_train(vf_index index, int64_t n, const float *rows) {
  VF_TRY
  check_rows(n, rows, "rows");
  I(index).train(n, rows);
  return 0;
  VF_CATCH(1)
}

int vf_index_add(vf_index index, int64_t n, const float *rows) {
  VF_TRY
  check_rows(n, rows, "rows");
  I(index).add(n, rows);
  return 0;
  VF_CATCH(1)
}

int vf_index_search(vf_index index, int64_t n, const float *queries, int64_t k, float *distances,
                    int64_t *labels) {
  VF_TRY
  check_rows(n, queries, "queries");
  if (k < 1) throw std::invalid_argument("k must be at least 1");
  if (n > 0 && (distances == nullptr || labels == nullptr)) throw std::invalid_argument("null output pointer");
  I(index).search(n, queries, k, distances, labels);
  return 0;
  VF_CATCH(1)
}

int vf_index_reset(vf_index index) {
  VF_TRY
  I(index).reset();
  return 0;
  VF_CATCH(1)
}

int vf_index_set_parameters(vf_index index, const char *parameters) {
  VF_TRY
  if (parameters == nullptr) throw std::invalid_argument("null parameters");
  faiss::ParameterSpace().set_index_parameters(&I(index), parameters);
  return 0;
  VF_CATCH(1)
}

int vf_index_write(vf_index index, const char *path) {
  VF_TRY
  if (path == nullptr) throw std::invalid_argument("null path");
  const faiss::Index &source = I(index);
  std::unique_ptr<FILE, FileCloser> file(fopen(path, "wb"));
  if (!file) throw std::runtime_error(std::string("cannot open for writing: ") + strerror(errno));
  faiss::write_index(&source, file.get());
  // Flushed and synced here so that a rename after this call never exposes a partial file.
  if (fflush(file.get()) != 0 || fsync(fileno(file.get())) != 0)
    throw std::runtime_error(std::string("cannot flush: ") + strerror(errno));
  if (fclose(file.release()) != 0) throw std::runtime_error(std::string("cannot close: ") + strerror(errno));
  return 0;
  VF_CATCH(1)
}

vf_index vf_index_read(const char *path) {
  VF_TRY
  if (path == nullptr) throw std::invalid_argument("null path");
  return H(faiss::read_index(path));
  VF_CATCH(nullptr)
}

}  // extern "C"
